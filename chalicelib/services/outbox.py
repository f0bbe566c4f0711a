"""The outbox processor: what happens after an invoice is committed, retried until done, never twice.

The issuing transaction writes an outbox item next to the invoice, listing the steps still to do:
``xml → proof_pdf → a4_pdf → email → sms``. The invoices table's stream carries the new item to
:meth:`OutboxProcessor.process` right away (api/outbox_events.py); the scheduled
:meth:`OutboxProcessor.sweep` finds whatever that missed (S3 or SES outage, crash). So an outage
only delays documents and mail: the invoice itself is already stored and valid, and nothing here
can undo or block it.

Retries and "never twice":

- Each step is marked done with a conditional update (only if it is still in the state we read),
  and its result is stored in the same update, so a step done is never done again.
- Documents are idempotent: the S3 key is fixed per invoice and kind, so writing again after a crash
  between the upload and the mark replaces the object with the same bytes.
- Email and SMS are not: a message sent cannot be unsent. They are claimed first with a lease
  (``sending#<expiry>``, conditional on pending or on an expired lease), then sent, then marked done.
  A worker that finds a live lease leaves the item alone. If the worker dies between sending and
  marking, the message may be sent again, but only after the lease (5 minutes) expires; that window,
  and a send that timed out after the provider took it, are the only ways to send twice. A failure
  that certainly sent nothing (``NotSent``) gives the lease back so the retry need not wait.
- Documents come before delivery: the mail carries the PDF, so an S3 outage sends no mail at all.
- A failed step adds 1 to ``attempts``, stores ``last_error`` and re-raises; the stream handler
  logs it and goes on with the batch (a stream handler that raised would hold the shard), and the
  item stays in the sweeper's index until every step is done or skipped.

One engine (this module) runs every kind of item through the same moves (services/outbox_run.py);
a kind says what its steps do (services/outbox_invoice.py, outbox_allowance.py, outbox_notices.py).

Allowances (折讓) use the same items and machinery: an event starting with ``allowance_``
(``allowance_issued``, ``allowance_cancelled``, written by services/allowances.py) names an allowance
number in the item's ``invoice_number`` field, loads the allowance instead of an invoice, and has its
own document steps (``g0501_xml``/``g0401_xml``, ``allowance_pdf``) before the same leased ``email``.

The merchant's low-stock notice (event ``low_stock``, services/low_stock.py) is an item too, named
by the invoice whose issue queued it, with one leased ``email`` step to the merchant's notice
address. Only after it was sent is the channel's counter marked notified; a notice made out of
date by newly assigned booklets is skipped.

Events (webhooks, the merchant's inbox; services/events.py): before any step, the item is turned
into the events it stands for (services/event_sources.py) and published; a failure there fails the
pass like a failed step, so the item stays pending until its events are out. An item written only
to carry an event (``event:<type>``) has the one step ``publish``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from chalicelib.domain.outbox_item import DONE, FINISHED
from chalicelib.observability import logger
from chalicelib.services.outbox_allowance import AllowanceKind
from chalicelib.services.outbox_invoice import InvoiceKind
from chalicelib.services.outbox_lottery import WinnerKind
from chalicelib.services.outbox_notices import EventKind, LowStockKind
from chalicelib.services.outbox_run import OutboxParts, Run, RunKind, stamp

#: The sweeper leaves younger items to their stream record, which is most likely being handled now.
SWEEP_MIN_AGE = timedelta(minutes=1)
SWEEP_BATCH = 100
MAX_ERROR_CHARS = 500
#: Asked in order; the invoice kind takes every event no other kind claims.
KINDS: tuple[RunKind, ...] = (AllowanceKind(), LowStockKind(), EventKind(), WinnerKind(), InvoiceKind())


class Outcome(StrEnum):
    DONE = "done"  # every step is done or skipped now
    ALREADY_DONE = "already_done"
    MISSING = "missing"  # no such outbox item (nothing to do)
    BUSY = "busy"  # another worker holds a send lease; it (or the sweeper after the lease) finishes


def _kind(event: str) -> RunKind:
    return next(kind for kind in KINDS if kind.handles(event))


@dataclass
class OutboxProcessor(OutboxParts):
    def process(self, ubn: str, number: str, event: str) -> Outcome:
        item = self.outbox.get(ubn, number, event)
        if item is None:
            logger.warning("outbox item not found", extra={"ubn": ubn, "invoice_number": number, "event": event})
            return Outcome.MISSING
        kind = _kind(event)
        order = kind.order(event)
        steps = [step for step in order if step in item["steps"]]
        unknown = set(item["steps"]) - set(order)
        if unknown:
            # A new event kind needs its steps here first; failing keeps the item pending until then.
            raise ValueError(f"outbox steps this processor does not know: {sorted(unknown)}")
        if item.get("status") == DONE and "gsi1pk" not in item:
            return Outcome.ALREADY_DONE
        run = kind.start(self, ubn, number, event, item)
        try:
            if self.events is not None:
                found = run.events()
                if found:
                    self.events.publish(found)
        except Exception as error:
            self._record_failure(run, "events", error)
            raise
        for step in steps:
            if run.state(step) in FINISHED:
                continue
            try:
                if not run.do(step):
                    return Outcome.BUSY
            except Exception as error:
                self._record_failure(run, step, error)
                raise
        run.complete()
        if not self.outbox.finish(ubn, number, event, steps, at=stamp(self.clock.now())):
            logger.warning("outbox item changed while finishing", extra={"ubn": ubn, "invoice_number": number})
        return Outcome.DONE

    def sweep(self, *, deadline: float | None = None, min_age: timedelta = SWEEP_MIN_AGE) -> dict[str, int]:
        """Process pending items older than ``min_age``, oldest first, until ``deadline``
        (``time.monotonic()``). One failing item never stops the others."""
        report = {outcome.value: 0 for outcome in Outcome} | {"failed": 0}
        cutoff = self.clock.now() - min_age
        for item in self.outbox.pending(SWEEP_BATCH):
            if deadline is not None and time.monotonic() > deadline:
                break
            if _created(item) > cutoff:
                # Not `break`: the index sorts the stamps as text, which is creation order only while
                # every writer uses the same UTC offset.
                continue
            try:
                outcome = self.process(str(item["ubn"]), str(item["invoice_number"]), str(item["event"]))
            except Exception:
                logger.exception(
                    "outbox item failed in the sweep",
                    extra={"ubn": item.get("ubn"), "invoice_number": item.get("invoice_number")},
                )
                report["failed"] += 1
                continue
            report[outcome.value] += 1
        return report

    def _record_failure(self, run: Run, step: str, error: Exception) -> None:
        message = f"{step}: {type(error).__name__}: {error}"[:MAX_ERROR_CHARS]
        logger.warning(
            "outbox step failed; it will be retried",
            extra={"ubn": run.ubn, "invoice_number": run.number, "step": step, "error": message},
        )
        try:
            self.outbox.failed(run.ubn, run.number, run.event, error=message, at=stamp(self.clock.now()))
        except Exception:
            # DynamoDB is down too: the original error is what the caller needs to see.
            logger.exception("could not record the outbox failure", extra={"invoice_number": run.number})


def _created(item: dict[str, Any]) -> datetime:
    created = datetime.fromisoformat(str(item["created_at"]))
    return created if created.tzinfo else created.replace(tzinfo=UTC)
