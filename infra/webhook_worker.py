"""`make run`'s stand-in for the ``webhook_dispatch`` schedule: a thread that sends the webhook
deliveries that are due every few seconds (the deployed schedule runs each minute), with the same
code. A thread of its own, so a receiver that hangs until the timeout never holds up the outbox."""

from __future__ import annotations

import threading
import time

from chalicelib.api import deps
from chalicelib.observability import logger

EVERY_S = 5.0
BUDGET_S = 30.0


class WebhookWorker:
    def __init__(self, *, every_s: float = EVERY_S) -> None:
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> WebhookWorker:
        self._thread = threading.Thread(target=self._run, name="webhook-dispatch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=BUDGET_S + 15)
        self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sent = deps.webhook_dispatcher().run_due(time.monotonic() + BUDGET_S)
                if any(sent.values()):
                    logger.info("webhook deliveries", extra=sent)
            except Exception:  # keep the worker alive; the log says what went wrong
                logger.exception("local webhook dispatch round failed")
            self._stop.wait(self._every_s)
