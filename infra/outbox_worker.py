"""`make run`'s stand-in for the outbox Lambda functions: a background thread that long-polls the
local SQS queue on moto and runs the same handler code, and runs the sweeper every 30 seconds.

Like Lambda's SQS poller, a message is deleted only after it was handled without an error; a failed
one becomes visible again after the queue's visibility timeout (and the sweeper usually gets there
first). Usage, after the environment points at the local parts::

    worker = OutboxWorker().start()
    ...
    worker.stop()
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.api.outbox_events import handle_message_body, run_sweep
from chalicelib.observability import logger
from chalicelib.settings import get_settings

SWEEP_EVERY_S = 30.0
# moto answers a long poll when a message arrives or after this long; stop() waits at most this.
WAIT_S = 2
_POLL = Config(connect_timeout=2, read_timeout=WAIT_S + 5, retries={"max_attempts": 1})


class OutboxWorker:
    def __init__(self, *, sweep_every_s: float = SWEEP_EVERY_S) -> None:
        self._sweep_every_s = sweep_every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> OutboxWorker:
        self._thread = threading.Thread(target=self._run, name="outbox-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=WAIT_S + 10)
        self._thread = None

    def _run(self) -> None:
        settings = get_settings()
        sqs = boto3.session.Session().client(
            "sqs", region_name=settings.region, endpoint_url=settings.sqs_endpoint, config=_POLL
        )
        queue_url = sqs.get_queue_url(QueueName=settings.outbox_queue)["QueueUrl"]
        next_sweep = time.monotonic() + self._sweep_every_s
        while not self._stop.is_set():
            try:
                self.poll_once(sqs, queue_url)
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + self._sweep_every_s
                    run_sweep()
            except Exception:  # keep the worker alive whatever one round did; the log says what
                logger.exception("local outbox worker round failed")
                self._stop.wait(1.0)

    @staticmethod
    def poll_once(sqs: Any, queue_url: str) -> int:
        """Receive at most one message (Lambda's batch_size=1), handle it, delete it if handled."""
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=WAIT_S).get(
            "Messages", []
        )
        for message in messages:
            try:
                handle_message_body(message["Body"])
            except Exception:
                logger.warning("outbox message failed; it will be retried", exc_info=True)
                continue
            with contextlib.suppress(Exception):  # a message handled twice is harmless (see services/outbox)
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)
