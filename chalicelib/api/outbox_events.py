"""The outbox's Lambda functions: the SQS handler (one message at a time) and the 5-minute sweeper.

Both are thin: they build an :class:`OutboxProcessor` from the current settings and hand it the
work. ``handle_message_body`` and ``run_sweep`` are what the decorated handlers call, so
``make run``'s worker thread (infra/outbox_worker.py) runs exactly the same code locally.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from chalice.app import Blueprint, CloudWatchEvent, Rate, SQSEvent

from chalicelib.adapters.sqs_outbox import OutboxMessage, queue_name
from chalicelib.observability import logger, metrics

if TYPE_CHECKING:
    from chalicelib.services.outbox import OutboxProcessor, Outcome

bp = Blueprint(__name__)

# The one place the environment is read at import: Chalice needs the queue name when the decorator
# runs, to write the event source into the deployment (`chalice package`/`deploy` load app.py with
# the stage's environment variables set, and Lambda sets them before the import). Everything else
# reads settings lazily. "local" covers the test client and `make run`, which never deploy it.
OUTBOX_QUEUE_NAME = queue_name(os.environ.get("STAGE") or "local")
# Stop taking new items this long before the sweeper's Lambda timeout, so none is cut off mid-step.
SWEEP_MARGIN_S = 30.0
LOCAL_SWEEP_BUDGET_S = 25.0


def processor() -> OutboxProcessor:
    from chalicelib.api.deps import outbox_processor

    return outbox_processor()


def handle_message_body(body: str) -> Outcome:
    """Process the outbox item one SQS message names; raises (so SQS redelivers) if a step failed."""
    from chalicelib.services.outbox import Outcome

    try:
        message = OutboxMessage.from_body(body)
    except (ValueError, KeyError, TypeError):
        # No retry can fix a malformed message; any real work it stood for is in the outbox index.
        logger.error("malformed outbox message dropped", extra={"body": body[:200]})
        return Outcome.MISSING
    outcome = processor().process(message.ubn, message.invoice_number, message.event)
    metrics.add_metric(name="OutboxMessages", unit=MetricUnit.Count, value=1)
    # `extra`, not append_keys: the local worker shares the logger with the API's threads.
    logger.info(
        "outbox message handled",
        extra={"ubn": message.ubn, "invoice_number": message.invoice_number, "outcome": outcome.value},
    )
    return outcome


def run_sweep(budget_s: float = LOCAL_SWEEP_BUDGET_S) -> dict[str, int]:
    from chalicelib.services.outbox import Outcome

    report = processor().sweep(deadline=time.monotonic() + budget_s)
    metrics.add_metric(name="OutboxSweeps", unit=MetricUnit.Count, value=1)
    if any(count for outcome, count in report.items() if outcome != Outcome.MISSING.value):
        logger.info("outbox sweep", extra={"report": report})
    return report


@bp.on_sqs_message(queue=OUTBOX_QUEUE_NAME, batch_size=1, name="handle_outbox_message")
def handle_outbox_message(event: SQSEvent) -> None:
    # batch_size=1: a failure redelivers only the message that failed, never a finished neighbour.
    for record in event:
        handle_message_body(record.body)


@bp.schedule(Rate(5, unit=Rate.MINUTES), name="sweep_outbox", description="Retry pending outbox items")
def sweep_outbox(event: CloudWatchEvent) -> None:
    run_sweep(_budget(event.context))


def _budget(context: Any) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return LOCAL_SWEEP_BUDGET_S
    return max(0.0, float(remaining()) / 1000 - SWEEP_MARGIN_S)
