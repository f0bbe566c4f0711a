"""The outbox queue on SQS: a wake-up call for the outbox processor after an invoice changed.

A message carries only ``{ubn, invoice_number, event}``; the work itself lives in the outbox item
that was committed with the invoice. So a lost, late or duplicated message is harmless: the sweeper
finds pending items on its own, and processing an item twice does nothing twice (see
``chalicelib.services.outbox``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from botocore.config import Config

from chalicelib.adapters.aws import new_client
from chalicelib.observability import logger
from chalicelib.settings import get_settings

# Sending happens inside an API request after the invoice is committed: fail fast and let the
# sweeper catch up, rather than hold the caller through botocore's retries (aws.py's defaults
# allow ~30 s).
_SEND = Config(connect_timeout=1, read_timeout=3, retries={"max_attempts": 2, "mode": "standard"})


def queue_name(stage: str) -> str:
    """The outbox queue of a stage; ``infra.resources.OUTBOX_QUEUE`` creates it under this name."""
    return f"einvoice-{stage}-outbox"


@dataclass(frozen=True)
class OutboxMessage:
    ubn: str
    invoice_number: str
    event: str

    def to_body(self) -> str:
        return json.dumps({"ubn": self.ubn, "invoice_number": self.invoice_number, "event": self.event})

    @classmethod
    def from_body(cls, body: str) -> OutboxMessage:
        data = json.loads(body)
        return cls(ubn=str(data["ubn"]), invoice_number=str(data["invoice_number"]), event=str(data["event"]))


@lru_cache(maxsize=8)
def _client(region: str, endpoint: str | None) -> Any:
    return new_client("sqs", region, endpoint, _SEND)


@lru_cache(maxsize=8)
def _queue_url(region: str, endpoint: str | None, name: str) -> str:
    return str(_client(region, endpoint).get_queue_url(QueueName=name)["QueueUrl"])


class SqsOutboxQueue:
    """Sends wake-ups to the queue named by the ``OUTBOX_QUEUE`` setting."""

    def send(self, message: OutboxMessage) -> str:
        settings = get_settings()
        url = _queue_url(settings.region, settings.sqs_endpoint, settings.outbox_queue)
        response = _client(settings.region, settings.sqs_endpoint).send_message(
            QueueUrl=url, MessageBody=message.to_body()
        )
        return str(response["MessageId"])


def notify_outbox(ubn: str, number: str, event: str) -> None:
    """Wake the outbox processor for a committed change; never raises.

    Called by the API after the invoice's transaction committed, so a failure here must not turn
    a successful request into an error (the caller would retry and, without an idempotency key,
    issue a second invoice). The outbox item is already stored; the sweeper processes it within
    minutes if this message never arrives.
    """
    try:
        SqsOutboxQueue().send(OutboxMessage(ubn, number, event))
    except Exception:  # anything at all: the request has already succeeded
        logger.warning(
            "outbox wake-up not sent; the sweeper will pick it up",
            extra={"ubn": ubn, "invoice_number": number, "event": event},
            exc_info=True,
        )
