"""`make run`: the whole platform on this machine, at http://127.0.0.1:PORT.

Starts DynamoDB Local (data kept under .data/) and moto's server, creates every table, the
bucket, serves the Chalice app with the same routing and error answers as API Gateway, and runs
the outbox worker (what the stream and scheduled functions do when deployed).
Ctrl-C stops everything this started.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from http import HTTPStatus
from pathlib import Path
from typing import Any

from chalice.cli.factory import CLIFactory
from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice, LocalDevServer

from chalicelib.adapters.dynamo_merchants import DynamoMerchants
from chalicelib.api.errors import JSON_CONTENT_TYPE, error_body
from infra.demo_cert import ensure_demo_certificate, trusted_with_demo_ca
from infra.gateway import GatewayResponsesLocalGateway
from infra.local import ROOT, LocalStack
from infra.scheduler import PeriodScheduler
from infra.seed import remembered_secret, seed_demo
from infra.stream_worker import StreamWorker
from infra.webhook_worker import WebhookWorker

DATA_DIR = ROOT / ".data" / "dynamodb"
S3_DIR = ROOT / ".data" / "s3"  # the artifacts bucket, saved at stop and loaded at start (infra/local.py)


class Handler(ChaliceRequestHandler):
    """Chalice's request handler, with the gateway that answers like the deployed API Gateway.

    Every answer is the API's JSON error shape, as behind API Gateway: a method Chalice's handler has
    no ``do_`` method for (TRACE, CONNECT, a made-up verb) goes through the app like any other and is
    answered 405/404 there, and what http.server refuses itself (a malformed request line, a header
    too long) is answered in JSON instead of its HTML page.
    """

    def __init__(self, request: Any, client_address: Any, server: Any, app_object: Any, config: Any) -> None:
        self.local_gateway = GatewayResponsesLocalGateway(app_object, config)
        # The peer's address as the event's sourceIp, as API Gateway sets it (Chalice's local server
        # says 127.0.0.1 for everyone): sign-in throttling counts by it.
        self.local_gateway.event_converter.LOCAL_SOURCE_IP = client_address[0]
        # BaseHTTPRequestHandler handles the request inside __init__, so the gateway is set first.
        super(ChaliceRequestHandler, self).__init__(request, client_address, server)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        body = json.dumps(
            error_body(
                _PROTOCOL_CODES.get(code, "BAD_REQUEST"),
                message or HTTPStatus(code).phrase,
                _PROTOCOL_ZH.get(code, "請求有誤"),
            ),
            ensure_ascii=False,
        ).encode()
        self.close_connection = True
        # A request line too broken to name a version would otherwise get an HTTP/0.9 answer: a bare
        # body without status line or headers.
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version: str = "HTTP/1.0"
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", JSON_CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass  # the client went away


_PROTOCOL_CODES = {
    400: "BAD_REQUEST",
    408: "REQUEST_TIMEOUT",
    414: "URI_TOO_LONG",
    431: "HEADERS_TOO_LARGE",
    501: "NOT_IMPLEMENTED",
    505: "HTTP_VERSION_NOT_SUPPORTED",
}
_PROTOCOL_ZH = {
    400: "請求格式有誤",
    408: "請求逾時",
    414: "網址過長",
    431: "請求標頭過大",
    501: "不支援此請求",
    505: "不支援此 HTTP 版本",
}


def local_server(port: int, stage: str = "local") -> LocalDevServer:
    """The app served the way ``chalice local`` serves it, with this module's Handler."""
    factory = CLIFactory(project_dir=str(ROOT))
    config = factory.create_config_obj(chalice_stage_name=stage)
    os.environ.update(config.environment_variables)
    app_obj = factory.load_chalice_app()
    # What chalice.local.create_local_server does: per-thread current_request handling.
    CustomLocalChalice.__bases__ = (LocalChalice, app_obj.__class__)
    app_obj.__class__ = CustomLocalChalice
    return LocalDevServer(app_obj, config, "127.0.0.1", port, handler_cls=Handler)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def serve(port: int, stage: str = "local", data_dir: Path | None = DATA_DIR, s3_dir: Path | None = S3_DIR) -> None:
    # Ctrl-C and SIGTERM stop everything this started, even when the shell that launched us
    # made background jobs ignore SIGINT (Python then keeps ignoring it unless told otherwise).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    stack = LocalStack(stage=stage, data_dir=data_dir, s3_dir=s3_dir)
    print(f"Starting DynamoDB Local (data in {data_dir}) and moto server (S3 kept in {s3_dir})…", flush=True)
    worker: StreamWorker | None = None
    scheduler: PeriodScheduler | None = None
    webhook_worker: WebhookWorker | None = None
    try:
        stack.start()
        stack.create_resources()
        os.environ.update(stack.environment())
        # The root secret is generated once and kept, so tokens survive a restart.
        os.environ.setdefault("SECRET_KEY", remembered_secret(ROOT / ".data" / "secret-key", 32))
        # The buyer's mail links to the look-up page at this address.
        os.environ.setdefault("PUBLIC_URL", f"http://127.0.0.1:{port}")
        if stage == "local":  # the demo 工商憑證's CA (infra/demo_cert.py) is trusted on this stage only
            demo = ensure_demo_certificate(ROOT / ".data")
            os.environ["TRUSTED_CA_PEMS"] = trusted_with_demo_ca(demo, os.environ.get("TRUSTED_CA_PEMS"))
        server = local_server(port, stage)
        for line in seed_demo(stack, ROOT / ".data"):
            print(line, flush=True)
        if sealed := DynamoMerchants().seal_plain_qr_keys():
            print(f"Sealed {sealed} QR-code keys kept in plain by an earlier version", flush=True)
        # What the outbox Lambdas do when deployed: the invoices table's stream wakes them for
        # documents, mail and SMS after each change.
        worker = StreamWorker().start()
        # What the hourly period_jobs Lambda does: close periods, remind, mark overdue.
        scheduler = PeriodScheduler().start()
        # What the webhook_dispatch schedule does: send signed events to merchants' endpoints.
        webhook_worker = WebhookWorker().start()
        print(
            f"\nE-invoice platform ready in {time.monotonic() - started:.1f}s\n"
            f"  Console    http://127.0.0.1:{port}/   (營業人 /login, 稽徵機關 /staff/login)\n"
            f"  API        http://127.0.0.1:{port}/v1/...\n"
            f"  Health     http://127.0.0.1:{port}/health\n"
            f"  API docs   http://127.0.0.1:{port}/docs\n"
            f"  Outbox     http://127.0.0.1:{port}/local/outbox   (mail and SMS sent)\n"
            f"  DynamoDB   {stack.dynamodb.endpoint}   moto (S3/SES/SNS) {stack.moto.endpoint}\n"
            "Demo accounts are listed above.\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
    finally:
        if webhook_worker is not None:
            webhook_worker.stop()
        if scheduler is not None:
            scheduler.stop()
        if worker is not None:
            worker.stop()
        stack.stop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args = parser.parse_args(argv)
    serve(args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
