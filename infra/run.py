"""`make run`: the whole platform on this machine, at http://127.0.0.1:PORT.

Starts DynamoDB Local (data kept under .data/) and moto's server, creates every table, the
bucket and the queues, serves the Chalice app with the same routing and error answers as API
Gateway, and runs the outbox worker (what the SQS and scheduled functions do when deployed).
Ctrl-C stops everything this started.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from chalice.cli.factory import CLIFactory
from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice, LocalDevServer

from infra.gateway import GatewayResponsesLocalGateway
from infra.local import ROOT, LocalStack
from infra.outbox_worker import OutboxWorker
from infra.scheduler import PeriodScheduler
from infra.seed import remembered_secret, seed_demo

DATA_DIR = ROOT / ".data" / "dynamodb"


class Handler(ChaliceRequestHandler):
    """Chalice's request handler, with the gateway that answers like the deployed API Gateway."""

    def __init__(self, request: Any, client_address: Any, server: Any, app_object: Any, config: Any) -> None:
        self.local_gateway = GatewayResponsesLocalGateway(app_object, config)
        # BaseHTTPRequestHandler handles the request inside __init__, so the gateway is set first.
        super(ChaliceRequestHandler, self).__init__(request, client_address, server)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def serve(port: int, stage: str = "local", data_dir: Path | None = DATA_DIR) -> None:
    # Ctrl-C and SIGTERM stop everything this started, even when the shell that launched us
    # made background jobs ignore SIGINT (Python then keeps ignoring it unless told otherwise).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    stack = LocalStack(stage=stage, data_dir=data_dir)
    print(f"Starting DynamoDB Local (data in {data_dir}) and moto server…", flush=True)
    worker: OutboxWorker | None = None
    scheduler: PeriodScheduler | None = None
    try:
        stack.start()
        stack.create_resources()
        os.environ.update(stack.environment())
        # The root secret is generated once and kept, so tokens survive a restart.
        os.environ.setdefault("SECRET_KEY", remembered_secret(ROOT / ".data" / "secret-key", 32))
        factory = CLIFactory(project_dir=str(ROOT))
        config = factory.create_config_obj(chalice_stage_name=stage)
        os.environ.update(config.environment_variables)
        app_obj = factory.load_chalice_app()
        # What chalice.local.create_local_server does: per-thread current_request handling.
        CustomLocalChalice.__bases__ = (LocalChalice, app_obj.__class__)
        app_obj.__class__ = CustomLocalChalice
        server = LocalDevServer(app_obj, config, "127.0.0.1", port, handler_cls=Handler)
        for line in seed_demo(stack, ROOT / ".data"):
            print(line, flush=True)
        # What the outbox Lambdas do when deployed: documents, mail and SMS after each invoice.
        worker = OutboxWorker().start()
        # What the hourly period_jobs Lambda does: close periods, remind, mark overdue.
        scheduler = PeriodScheduler().start()
        print(
            f"\nE-invoice platform ready in {time.monotonic() - started:.1f}s\n"
            f"  API        http://127.0.0.1:{port}/\n"
            f"  Health     http://127.0.0.1:{port}/health\n"
            f"  API docs   http://127.0.0.1:{port}/docs\n"
            f"  Outbox     http://127.0.0.1:{port}/local/outbox   (mail and SMS sent)\n"
            f"  DynamoDB   {stack.dynamodb.endpoint}   moto (S3/SES/SNS/SQS) {stack.moto.endpoint}\n"
            "Demo accounts are listed above.\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
    finally:
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
