"""The outbox's Lambda functions: the invoices table's stream handler and the 5-minute sweeper.

Both are thin: they build an :class:`OutboxProcessor` from the current settings and hand it the
work. ``handle_stream_records`` and ``run_sweep`` are what the decorated handlers call, so
``make run``'s stream poller (infra/stream_worker.py) runs exactly the same code locally.

The stream, not a queue message sent by the request, wakes the outbox: the outbox item is
committed with the change it follows, and its write is the wake-up (adapters/dynamo_outbox_stream.py),
so the request returns as soon as its transaction does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from chalice.app import Blueprint, CloudWatchEvent, DynamoDBEvent, Rate

from chalicelib.adapters.dynamo_outbox_stream import wake_ups
from chalicelib.observability import logger, metrics

if TYPE_CHECKING:
    from chalicelib.services.outbox import OutboxProcessor

bp = Blueprint(__name__)

# Chalice needs a stream ARN when the decorator runs. The deployed one exists only once
# CloudFormation made the table, so the packaged template replaces this stand-in with the table's
# StreamArn (infra/template.py); the test client and `make run` never deploy it.
INVOICES_STREAM_ARN = os.environ.get("INVOICES_STREAM_ARN") or (
    "arn:aws:dynamodb:ap-northeast-1:000000000000:table/einvoice-local-invoices/stream/local"
)
# One invocation takes up to this many records; each outbox item in them is processed in turn.
STREAM_BATCH_SIZE = 10
# Stop taking new items this long before the sweeper's Lambda timeout, so none is cut off mid-step.
SWEEP_MARGIN_S = 30.0
LOCAL_SWEEP_BUDGET_S = 25.0


def processor() -> OutboxProcessor:
    from chalicelib.api.deps import outbox_processor

    return outbox_processor()


def handle_stream_records(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """Process every outbox item a batch of stream records starts.

    Never raises: a failed step leaves its item pending, with its error, for the sweeper, rather
    than holding the shard (a stream handler that raises is retried on the whole batch, blocking
    every later change of the table's partition behind it). The outcome of each item, in order:
    an ``Outcome`` value, or ``"failed"``."""
    outcomes: list[str] = []
    for wake in wake_ups(records):
        try:
            outcome = processor().process(wake.ubn, wake.number, wake.event).value
        except Exception:
            logger.warning(
                "outbox item failed; the sweeper retries it",
                extra={"ubn": wake.ubn, "invoice_number": wake.number, "event": wake.event},
                exc_info=True,
            )
            outcome = "failed"
        outcomes.append(outcome)
        # `extra`, not append_keys: the local poller shares the logger with the API's threads.
        logger.info(
            "outbox item handled",
            extra={"ubn": wake.ubn, "invoice_number": wake.number, "outcome": outcome},
        )
    if outcomes:
        metrics.add_metric(name="OutboxWakeUps", unit=MetricUnit.Count, value=len(outcomes))
    return outcomes


def run_sweep(budget_s: float = LOCAL_SWEEP_BUDGET_S) -> dict[str, int]:
    from chalicelib.services.outbox import Outcome

    report = processor().sweep(deadline=time.monotonic() + budget_s)
    metrics.add_metric(name="OutboxSweeps", unit=MetricUnit.Count, value=1)
    if any(count for outcome, count in report.items() if outcome != Outcome.MISSING.value):
        logger.info("outbox sweep", extra={"report": report})
    return report


@bp.on_dynamodb_record(
    stream_arn=INVOICES_STREAM_ARN,
    batch_size=STREAM_BATCH_SIZE,
    starting_position="TRIM_HORIZON",  # from the oldest record kept: a first deployment loses none
    name="handle_outbox_stream",
)
def handle_outbox_stream(event: DynamoDBEvent) -> None:
    handle_stream_records(record.to_dict() for record in event)


@bp.schedule(Rate(5, unit=Rate.MINUTES), name="sweep_outbox", description="Retry pending outbox items")
def sweep_outbox(event: CloudWatchEvent) -> None:
    run_sweep(_budget(event.context))


def _budget(context: Any) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return LOCAL_SWEEP_BUDGET_S
    return max(0.0, float(remaining()) / 1000 - SWEEP_MARGIN_S)
