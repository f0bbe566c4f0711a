"""A real HTTP receiver for outgoing webhooks, on 127.0.0.1 in a thread: it answers each request
as scripted (a status, or hanging past the sender's timeout) and keeps what it got.

Also an independent signature check, written from the documented scheme with hmac/hashlib only
(not the platform's own code), the way a merchant's developer would write it."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """``script``: what to answer, in order (an int status, or ``("hang", seconds)``); after it runs
    out, ``then``."""

    def __init__(self, *script: Any, then: Any = 200) -> None:
        self.script: deque[Any] = deque(script)
        self.then = then
        self.got: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.got.append(Received(self.path, dict(self.headers.items()), body))
                    answer = receiver.script.popleft() if receiver.script else receiver.then
                if isinstance(answer, tuple):
                    time.sleep(answer[1])
                    answer = 200
                payload = b'{"ok":true}' if answer < 300 else b"receiver says no"
                self.send_response(answer)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/einvoice"

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def signatures(header: str) -> tuple[int, list[str]]:
    """``t`` and every ``v1`` of an ``Einvoice-Signature`` header."""
    fields = [part.split("=", 1) for part in header.split(",")]
    stamp = next(int(value) for name, value in fields if name == "t")
    return stamp, [value for name, value in fields if name == "v1"]


def verifies(secret: str, header: str, body: bytes, *, now: float | None = None, tolerance_s: int = 300) -> bool:
    """What a receiver does: recompute HMAC-SHA256 over ``<t>.<body>`` and compare in constant time,
    refusing a stale timestamp."""
    stamp, given = signatures(header)
    if abs((time.time() if now is None else now) - stamp) > tolerance_s:
        return False
    expected = hmac.new(secret.encode(), str(stamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, value) for value in given)
