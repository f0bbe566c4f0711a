"""`make run`'s HTTP server answers every request in the API's JSON error shape, whatever the method
or however malformed the request line: a client (or a scanner) never gets an HTML error page."""

from __future__ import annotations

import json
import socket

import pytest


@pytest.fixture(scope="module")
def server_port(local_http_server: str) -> int:
    return int(local_http_server.rsplit(":", 1)[1])


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in header_lines)}
    return int(status_line.split()[1]), headers, body


def _error(headers: dict[str, str], body: bytes) -> dict[str, str]:
    assert headers["content-type"].startswith("application/json"), (headers, body[:200])
    error = json.loads(body)["error"]
    assert error["code"] and error["message"] and error["message_zh"]
    return error


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "BREW"])
def test_a_method_no_route_has_gets_a_json_error(server_port, method):
    status, headers, body = _raw(
        server_port, f"{method} /v1/invoices HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    )
    assert status in (404, 405)
    _error(headers, body)


def test_an_unknown_method_on_an_unknown_path_is_the_api_s_404(server_port):
    status, headers, body = _raw(server_port, b"TRACE /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 404
    assert _error(headers, body)["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "request_line",
    [b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n"],
    ids=["no-version", "bad-version", "uri-too-long"],
)
def test_a_malformed_request_gets_a_json_error(server_port, request_line):
    status, headers, body = _raw(server_port, request_line)
    assert 400 <= status < 600 and status != 500
    _error(headers, body)


def test_the_api_still_answers_through_the_same_server(server_port):
    status, headers, body = _raw(server_port, b"GET /openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200
    assert headers["content-type"].startswith("application/json")
    assert json.loads(body)["openapi"].startswith("3.1")
