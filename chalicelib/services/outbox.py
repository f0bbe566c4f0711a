"""The outbox processor: what happens after an invoice is committed, retried until done, never twice.

The issuing transaction writes an outbox item next to the invoice, listing the steps still to do:
``xml → proof_pdf → a4_pdf → email → sms``. An SQS message wakes :meth:`OutboxProcessor.process`
right away; the scheduled :meth:`OutboxProcessor.sweep` finds whatever that missed (lost message,
S3 or SES outage, crash). So an outage only delays documents and mail: the invoice itself is
already stored and valid, and nothing here can undo or block it.

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
- A failed step adds 1 to ``attempts``, stores ``last_error`` and re-raises, so SQS redelivers the
  message (and, after five failures, parks it in the dead-letter queue as an alarm); the item stays
  in the sweeper's index until every step is done or skipped.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, cast

from chalicelib.adapters.delivery import NotSent
from chalicelib.adapters.dynamo_outbox import result_attribute
from chalicelib.adapters.s3_artifacts import ArtifactKind, download_name
from chalicelib.domain.allowance_record import CANCELLED_EVENT, ISSUED_EVENT, AllowanceRecord
from chalicelib.domain.clock import Clock
from chalicelib.domain.events import OUTBOX_EVENT_PREFIX as EVENT_PREFIX
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.notifications import LOW_STOCK
from chalicelib.observability import logger
from chalicelib.services import allowance_documents, low_stock
from chalicelib.services.allowance_query import allowance_view
from chalicelib.services.event_sources import (
    EVENT_STEP,
    allowance_events,
    invoice_events,
    low_stock_event,
    standalone_event,
)
from chalicelib.services.events import EventPublisher
from chalicelib.services.invoice_documents import (
    Attachment,
    cancellation_email,
    f0401,
    f0501,
    f0701,
    invoice_email,
    invoice_sms,
    pdf_document,
)
from chalicelib.services.invoice_view import view
from chalicelib.services.low_stock import LowStockNotices
from chalicelib.services.merchant_profile import MerchantSettings, notice_settings
from chalicelib.services.notices import notice_address

if TYPE_CHECKING:
    from chalicelib.documents.pdf.allowance import AllowanceDocument
    from chalicelib.documents.pdf.model import InvoiceDocument

PENDING, DONE, SKIPPED = "pending", "done", "skipped"
FINISHED = frozenset({DONE, SKIPPED})
LEASE_PREFIX = "sending#"
#: How long a claimed send is left alone. Far longer than a send takes (one attempt, 20 s read
#: timeout), short enough that a crashed worker's message still goes out within minutes.
LEASE = timedelta(minutes=5)
#: The sweeper leaves younger items to their SQS message, which is most likely being handled now.
SWEEP_MIN_AGE = timedelta(minutes=1)
SWEEP_BATCH = 100
MAX_ERROR_CHARS = 500

# A cancel (作廢) and a void (註銷) write their message first: the void's F0701 must reach the
# platform before the re-issued F0401 under the same number.
DOCUMENT_STEPS: dict[str, ArtifactKind] = {
    "f0501_xml": ArtifactKind.F0501_XML,
    "f0701_xml": ArtifactKind.F0701_XML,
    "xml": ArtifactKind.XML,
    "proof_pdf": ArtifactKind.PROOF_PDF,
    "a4_pdf": ArtifactKind.A4_PDF,
}
DELIVERY_STEPS = ("email", "sms")
STEP_ORDER = (*DOCUMENT_STEPS, *DELIVERY_STEPS)
#: Events besides ``issued`` (see services/invoice_lifecycle.py); ``notify-<stamp>`` items re-send.
CANCELLED, VOIDED, NOTIFY_PREFIX = "cancelled", "voided", "notify-"

#: Renders after a store that the state they were rendered from still holds (see _render_current).
MAX_RENDERS = 3

#: Allowance events (services/allowances.py); the G0501 first, like an invoice's F0501.
ALLOWANCE_PREFIX = "allowance_"
ALLOWANCE_DOCUMENT_STEPS: dict[str, ArtifactKind] = {
    "g0501_xml": ArtifactKind.G0501_XML,
    "g0401_xml": ArtifactKind.G0401_XML,
    "allowance_pdf": ArtifactKind.ALLOWANCE_PDF,
}
ALLOWANCE_STEP_ORDER = (*ALLOWANCE_DOCUMENT_STEPS, "email")


class Outcome(StrEnum):
    DONE = "done"  # every step is done or skipped now
    ALREADY_DONE = "already_done"
    MISSING = "missing"  # no such outbox item (nothing to do)
    BUSY = "busy"  # another worker holds a send lease; it (or the sweeper after the lease) finishes


# --- ports ------------------------------------------------------------------------------------------


class OutboxStore(Protocol):
    def get(self, ubn: str, number: str, event: str) -> dict[str, Any] | None: ...
    def pending(self, limit: int = 100) -> list[dict[str, Any]]: ...
    def move(
        self,
        ubn: str,
        number: str,
        event: str,
        step: str,
        *,
        expect: str,
        to: str,
        result: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None: ...
    def claim(self, ubn: str, number: str, event: str, step: str, *, lease: str, expired_before: str) -> bool: ...
    def failed(self, ubn: str, number: str, event: str, *, error: str, at: str) -> None: ...
    def finish(self, ubn: str, number: str, event: str, steps: list[str], *, at: str) -> bool: ...


class InvoiceStore(Protocol):
    def get(self, ubn: str, number: str) -> InvoiceRecord | None: ...
    def set_fields(self, ubn: str, number: str, fields: dict[str, Any]) -> None: ...
    def merge_fields(
        self, ubn: str, number: str, maps: Mapping[str, Mapping[str, Any]], fields: Mapping[str, Any] | None = None
    ) -> None: ...


class AllowanceStore(Protocol):
    def get(self, ubn: str, number: str) -> dict[str, Any] | None: ...
    def set_fields(self, ubn: str, number: str, fields: Mapping[str, Any]) -> None: ...
    def merge_fields(
        self, ubn: str, number: str, maps: Mapping[str, Mapping[str, Any]], fields: Mapping[str, Any] | None = None
    ) -> None: ...


class MerchantStore(Protocol):
    def get_profile(self, ubn: str) -> dict[str, Any] | None: ...


class ArtifactStore(Protocol):
    def put(self, ubn: str, period: str, number: str, kind: ArtifactKind, body: bytes) -> str: ...
    def get(self, ubn: str, period: str, number: str, kind: ArtifactKind) -> bytes: ...
    def find(self, ubn: str, period: str, number: str, kind: ArtifactKind) -> bytes | None: ...


class RawMailer(Protocol):
    def send(self, to: str, raw_message: bytes) -> str: ...


class TextSender(Protocol):
    def send(self, phone_number: str, message: str) -> str: ...


Renderer = Callable[["InvoiceDocument"], bytes]
AllowanceRenderer = Callable[["AllowanceDocument"], bytes]


# --- the processor ----------------------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    """UTC, whole seconds, fixed width: stamps compare correctly as strings (the lease relies on it)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class _Run:
    """One pass over one item: the latest item state and the PDFs rendered in this pass."""

    ubn: str
    number: str
    event: str
    record: InvoiceRecord
    item: dict[str, Any]
    rendered: dict[ArtifactKind, bytes] = field(default_factory=dict)
    profile: dict[str, Any] | None = None

    def state(self, step: str) -> str:
        return str(self.item["steps"][step])


@dataclass
class _AllowanceRun:
    """One pass over one allowance item: its allowance and the PDF rendered in this pass."""

    ubn: str
    number: str  # the allowance number (the item's ``invoice_number`` field)
    event: str
    record: AllowanceRecord
    item: dict[str, Any]
    pdf: bytes | None = None
    profile: dict[str, Any] | None = None

    def state(self, step: str) -> str:
        return str(self.item["steps"][step])


@dataclass
class _NoticeRun:
    """One pass over one low-stock notice item (nothing to render, no invoice to update)."""

    ubn: str
    number: str  # the invoice whose issue queued the notice
    event: str
    item: dict[str, Any]
    profile: dict[str, Any] | None = None

    def state(self, step: str) -> str:
        return str(self.item["steps"][step])


@dataclass
class _EventRun:
    """One pass over an item that carries nothing but an event (``event:<type>``)."""

    ubn: str
    number: str
    event: str
    item: dict[str, Any]
    profile: dict[str, Any] | None = None

    def state(self, step: str) -> str:
        return str(self.item["steps"][step])


_AnyRun = _Run | _AllowanceRun | _NoticeRun | _EventRun


@dataclass
class OutboxProcessor:
    outbox: OutboxStore
    invoices: InvoiceStore
    merchants: MerchantStore
    artifacts: ArtifactStore
    mailer: RawMailer
    texter: TextSender
    render_proof: Renderer
    render_a4: Renderer
    clock: Clock
    mail_from: str
    # Optional so processors built for invoices only (tests, tools) need not wire them; an allowance
    # item then fails (and stays pending) instead of being skipped.
    allowances: AllowanceStore | None = None
    render_allowance: AllowanceRenderer | None = None
    low_stock_notices: LowStockNotices | None = None
    # Optional for the same reason; without it no events are published (tools, older tests).
    events: EventPublisher | None = None

    def process(self, ubn: str, number: str, event: str) -> Outcome:
        item = self.outbox.get(ubn, number, event)
        if item is None:
            logger.warning("outbox item not found", extra={"ubn": ubn, "invoice_number": number, "event": event})
            return Outcome.MISSING
        order = _step_order(event)
        steps = [step for step in order if step in item["steps"]]
        unknown = set(item["steps"]) - set(order)
        if unknown:
            # A new event kind needs its steps here first; failing keeps the item pending until then.
            raise ValueError(f"outbox steps this processor does not know: {sorted(unknown)}")
        if item.get("status") == DONE and "gsi1pk" not in item:
            return Outcome.ALREADY_DONE
        run = self._start(ubn, number, event, item)
        try:
            self._publish_events(run)
        except Exception as error:
            self._record_failure(run, "events", error)
            raise
        for step in steps:
            if run.state(step) in FINISHED:
                continue
            try:
                if not self._do(run, step):
                    return Outcome.BUSY
            except Exception as error:
                self._record_failure(run, step, error)
                raise
        if isinstance(run, _NoticeRun):
            self._notice_sent(run)
        self._publish(run)
        if isinstance(run, _AllowanceRun):
            self._refresh_invoice_pdfs(run)
        if not self.outbox.finish(ubn, number, event, steps, at=_stamp(self.clock.now())):
            logger.warning("outbox item changed while finishing", extra={"ubn": ubn, "invoice_number": number})
        return Outcome.DONE

    def _start(self, ubn: str, number: str, event: str, item: dict[str, Any]) -> _AnyRun:
        if event.startswith(ALLOWANCE_PREFIX):
            return self._allowance_run(ubn, number, event, item)
        if event == low_stock.EVENT:
            return _NoticeRun(ubn, number, event, item)
        if event.startswith(EVENT_PREFIX):
            return _EventRun(ubn, number, event, item)
        record = self.invoices.get(ubn, number)
        if record is None:  # written in one transaction with the item: this is a bug, not a race
            raise LookupError(f"outbox item without its invoice: {ubn} {number}")
        return _Run(ubn, number, event, record, item)

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

    # --- steps ----------------------------------------------------------------------------------------

    def _do(self, run: _AnyRun, step: str) -> bool:
        """Do one step; False when another worker holds its lease."""
        if isinstance(run, _AllowanceRun):
            return self._allowance_step(run, step)
        if isinstance(run, _NoticeRun):
            return self._notice_step(run)
        if isinstance(run, _EventRun):
            # Published before the steps (``_publish_events``); the step only records that it was.
            self._advance(run, step, expect=run.state(step), to=DONE, result={"at": _stamp(self.clock.now())})
            return True
        if step in DOCUMENT_STEPS:
            self._document(run, step, DOCUMENT_STEPS[step])
            return True
        return self._deliver(run, step)

    def _document(self, run: _Run, step: str, kind: ArtifactKind) -> None:
        from chalicelib.documents.mig import build_xml

        if kind is ArtifactKind.XML:
            body = build_xml(f0401(run.record))
        elif kind is ArtifactKind.F0501_XML:
            body = build_xml(f0501(run.record))
        elif kind is ArtifactKind.F0701_XML:
            body = build_xml(f0701(run.record))
        else:
            render = self.render_proof if kind is ArtifactKind.PROOF_PDF else self.render_a4
            body = render(pdf_document(run.record))
            run.rendered[kind] = body
        key = self.artifacts.put(run.ubn, run.record.period, run.number, kind, body)
        self._advance(run, step, expect=run.state(step), to=DONE, result={"key": key})

    def _stored_pdf(self, run: _Run, kind: ArtifactKind) -> bytes:
        """The PDF the document step stored, rendered and stored again when the bucket lost it:
        a lost object is rebuilt from the invoice, never retried forever as a failed send."""
        stored = self.artifacts.find(run.ubn, run.record.period, run.number, kind)
        if stored is not None:
            return stored
        render = self.render_proof if kind is ArtifactKind.PROOF_PDF else self.render_a4
        body = render(pdf_document(run.record))
        self.artifacts.put(run.ubn, run.record.period, run.number, kind, body)
        run.rendered[kind] = body
        return body

    def _deliver(self, run: _Run, step: str) -> bool:
        settings = MerchantSettings.model_validate(self._profile(run).get("settings") or {})
        record = run.record
        if step == "email":
            to = record.buyer.get("email")
            wanted = settings.email_buyer
        else:
            to = record.buyer.get("mobile")
            wanted = settings.sms_buyer
        if run.event.startswith(NOTIFY_PREFIX):
            # Asked for explicitly (POST .../notify), to the address given then or the buyer's: the
            # request is the merchant's choice for this one message, whatever the default settings say.
            to = (run.item.get("recipients") or {}).get(step) or to
            wanted = True
        if not (wanted and to):
            # The issuing transaction decided with the settings of that moment; the merchant may have
            # turned delivery off since, and an explicit "no" wins over a pending send.
            self._skip(run, step, "no address" if not to else "turned off in the merchant's settings")
            return True
        send = self._prepare_email(run, str(to)) if step == "email" else self._prepare_sms(run, str(to))
        return self._send_once(run, step, str(to), send)

    def _skip(self, run: _AnyRun, step: str, reason: str) -> None:
        result = {"status": SKIPPED, "reason": reason, "at": _stamp(self.clock.now())}
        self._advance(run, step, expect=run.state(step), to=SKIPPED, result=result)

    def _send_once(self, run: _AnyRun, step: str, to: str, send: Callable[[], str]) -> bool:
        """Claim the step's lease, send, mark done: the "never twice" part (see the module doc)."""
        now = self.clock.now()
        lease = LEASE_PREFIX + _stamp(now + LEASE)
        if not self.outbox.claim(
            run.ubn, run.number, run.event, step, lease=lease, expired_before=LEASE_PREFIX + _stamp(now)
        ):
            latest = self.outbox.get(run.ubn, run.number, run.event) or run.item
            run.item = latest
            return run.state(step) in FINISHED
        try:
            message_id = send()
        except NotSent:
            # Nothing went out: hand the lease back so the next attempt need not wait for it.
            self.outbox.move(run.ubn, run.number, run.event, step, expect=lease, to=PENDING)
            raise
        # Any other failure may have sent the message (a timeout after the provider took it): keep the
        # lease, so a retry waits for it to expire instead of sending again at once.
        result = {"status": "sent", "to": to, "message_id": message_id, "at": _stamp(self.clock.now())}
        self._advance(run, step, expect=lease, to=DONE, result=result)
        return True

    def _prepare_email(self, run: _Run, to: str) -> Callable[[], str]:
        """Build the whole mail before claiming the lease, so the lease covers the send alone."""
        profile = self._profile(run)
        if run.event == CANCELLED:
            raw = cancellation_email(
                run.record,
                to=to,
                sender=self.mail_from,
                sent_at=self.clock.now(),
                reply_to=profile.get("email") or None,
            )
            return lambda: self.mailer.send(to, raw)
        kind = ArtifactKind.A4_PDF if run.record.is_b2b else ArtifactKind.PROOF_PDF
        pdf = run.rendered.get(kind) or self._stored_pdf(run, kind)
        notice = "reissued" if run.event == VOIDED else "resent" if run.event.startswith(NOTIFY_PREFIX) else "issued"
        raw = invoice_email(
            run.record,
            to=to,
            sender=self.mail_from,
            attachment=Attachment(download_name(run.number, kind), pdf),
            sent_at=self.clock.now(),
            reply_to=profile.get("email") or None,
            notice=notice,
        )
        return lambda: self.mailer.send(to, raw)

    def _prepare_sms(self, run: _Run, to: str) -> Callable[[], str]:
        text = invoice_sms(run.record)
        return lambda: self.texter.send(to, text)

    # --- events ------------------------------------------------------------------------------------------

    def _publish_events(self, run: _AnyRun) -> None:
        if self.events is None:
            return
        if isinstance(run, _Run):
            found = invoice_events(run.item, view(run.record).model_dump(mode="json"))
        elif isinstance(run, _AllowanceRun):
            found = allowance_events(run.item, allowance_view(run.record).model_dump(mode="json"))
        elif isinstance(run, _NoticeRun):
            found = [low_stock_event(run.item)]
        else:
            found = [standalone_event(run.item)]
        if found:
            self.events.publish(found)

    # --- the low-stock notice ---------------------------------------------------------------------------

    def _notice_step(self, run: _NoticeRun) -> bool:
        notices = self._notices()
        if not notices.current(run.item):
            self._skip(run, "email", "more booklets were assigned since; a new notice follows if still low")
            return True
        profile = self._profile(run)
        if not notice_settings(profile).channels(LOW_STOCK).email:
            self._skip(run, "email", "turned off in the merchant's notification settings")
            return True
        to = notice_address(profile)
        if not to:
            self._skip(run, "email", "no address")
            return True
        raw = low_stock.notice_email(run.item, to=to, sender=self.mail_from, sent_at=self.clock.now())
        return self._send_once(run, "email", to, lambda: self.mailer.send(to, raw))

    def _notice_sent(self, run: _NoticeRun) -> None:
        """Mark the counter once the mail went out. Here, not in the step: if this fails, the item
        stays pending with its email done, and the retry marks the counter without mailing again."""
        if run.state("email") == DONE and (run.item.get(result_attribute("email")) or {}).get("status") == "sent":
            self._notices().sent(run.item)

    def _notices(self) -> LowStockNotices:
        if self.low_stock_notices is None:
            raise RuntimeError("this outbox processor is not wired for low-stock notices")
        return self.low_stock_notices

    # --- allowance steps ------------------------------------------------------------------------------

    def _allowance_run(self, ubn: str, number: str, event: str, item: dict[str, Any]) -> _AllowanceRun:
        raw = self._allowance_store().get(ubn, number)
        if raw is None:  # written in one transaction with the item: a bug, not a race
            raise LookupError(f"outbox item without its allowance: {ubn} {number}")
        return _AllowanceRun(ubn, number, event, AllowanceRecord.model_validate(raw), item)

    def _allowance_store(self) -> AllowanceStore:
        if self.allowances is None:
            raise RuntimeError("this outbox processor is not wired for allowances")
        return self.allowances

    def _allowance_renderer(self) -> AllowanceRenderer:
        if self.render_allowance is None:
            raise RuntimeError("this outbox processor is not wired for allowances")
        return self.render_allowance

    def _allowance_step(self, run: _AllowanceRun, step: str) -> bool:
        if step in ALLOWANCE_DOCUMENT_STEPS:
            from chalicelib.documents.mig import build_xml

            kind = ALLOWANCE_DOCUMENT_STEPS[step]
            if kind is ArtifactKind.G0401_XML:
                body = build_xml(allowance_documents.g0401(run.record))
            elif kind is ArtifactKind.G0501_XML:
                # The remark is not on the allowance: the cancel request left it on the item.
                body = build_xml(allowance_documents.g0501(run.record, run.item.get("remark")))
            else:
                # Rendered from the allowance as it is at render time, not as this item found it: the
                # issue's item finishing after a cancel must not put back an uncancelled PDF.
                key = self._allowance_pdf(run)
                self._advance(run, step, expect=run.state(step), to=DONE, result={"key": key})
                return True
            key = self.artifacts.put(run.ubn, run.record.period, run.number, kind, body)
            self._advance(run, step, expect=run.state(step), to=DONE, result={"key": key})
            return True
        # The only delivery step of an allowance is the buyer's e-mail.
        settings = MerchantSettings.model_validate(self._profile(run).get("settings") or {})
        to = run.record.buyer.get("email")
        if not (settings.email_buyer and to):
            self._skip(run, step, "no address" if not to else "turned off in the merchant's settings")
            return True
        cancelled = run.event == CANCELLED_EVENT
        attachment = None
        if not cancelled:
            kind = ArtifactKind.ALLOWANCE_PDF
            # A PDF the bucket lost is rendered and stored again rather than failing every retry.
            pdf = run.pdf or self.artifacts.find(run.ubn, run.record.period, run.number, kind)
            if pdf is None:
                self._allowance_pdf(run)  # renders and stores it, keeping the bytes in run.pdf
                pdf = cast("bytes", run.pdf)
            attachment = Attachment(download_name(run.number, kind), pdf)
        raw = allowance_documents.allowance_email(
            run.record,
            to=str(to),
            sender=self.mail_from,
            sent_at=self.clock.now(),
            reply_to=self._profile(run).get("email") or None,
            attachment=attachment,
            cancelled=cancelled,
        )
        return self._send_once(run, step, str(to), lambda: self.mailer.send(str(to), raw))

    def _allowance_pdf(self, run: _AllowanceRun) -> str:
        """Render and store the allowance's PDF from its current state; its S3 key.

        The allowance only moves issued → cancelled, so a render that finds the status unchanged
        after its own upload is never older than what any other worker stored: an issue's worker
        that raced a cancel sees the cancel afterwards and stores the cancelled PDF again."""
        store = self._allowance_store()
        key = ""
        for _ in range(MAX_RENDERS):
            raw = store.get(run.ubn, run.number)
            if raw is None:
                raise LookupError(f"allowance vanished: {run.ubn} {run.number}")
            run.record = AllowanceRecord.model_validate(raw)
            body = self._allowance_renderer()(allowance_documents.pdf_document(run.record))
            run.pdf = body
            kind = ArtifactKind.ALLOWANCE_PDF
            key = self.artifacts.put(run.ubn, run.record.period, run.number, kind, body)
            latest = store.get(run.ubn, run.number) or raw
            if latest.get("status") == run.record.status:
                break
        return key

    def _refresh_invoice_pdfs(self, run: _AllowanceRun) -> None:
        """Re-render the original invoices' proof and A4 under their usual keys: they print the
        allowances in force (count, amount, what remains), which this issue or cancel changed.

        Idempotent (fixed keys, rendered from the invoice as it is now), so a retry or a duplicate
        message only writes the same bytes again; a change that lands during the render is caught
        by comparing the allowance fields after the upload and rendering once more."""
        for original in run.record.originals:
            number = original.invoice_number
            for _ in range(MAX_RENDERS):
                record = self.invoices.get(run.ubn, number)
                if record is None:
                    logger.warning("allowance's invoice not found", extra={"ubn": run.ubn, "invoice_number": number})
                    break
                document = pdf_document(record)
                for kind, render in (
                    (ArtifactKind.PROOF_PDF, self.render_proof),
                    (ArtifactKind.A4_PDF, self.render_a4),
                ):
                    self.artifacts.put(run.ubn, record.period, number, kind, render(document))
                latest = self.invoices.get(run.ubn, number)
                if latest is None or _allowance_state(latest) == _allowance_state(record):
                    break

    def _publish_allowance(self, run: _AllowanceRun) -> None:
        """Show on the allowance what its item holds, key by key (``artifacts.<step>``), so what the
        other event's item published stays (the cancel's PDF replaces the issue's under the same
        key, as it does in S3), even when both items are processed at once."""
        artifacts: dict[str, Any] = {}
        delivery: dict[str, Any] = {}
        for step, state in run.item["steps"].items():
            result = run.item.get(result_attribute(step))
            if step in ALLOWANCE_DOCUMENT_STEPS and state == DONE and result:
                artifacts[step] = result["key"]
            elif step == "email" and state in FINISHED:
                delivery["cancellation_email" if run.event == CANCELLED_EVENT else step] = result or {"status": SKIPPED}
        store = self._allowance_store()
        fields: dict[str, Any] = {}
        pending = any(state not in FINISHED for state in run.item["steps"].values())
        if run.event != ISSUED_EVENT:
            fields["artifacts_pending"] = pending
        elif run.record.status != "cancelled" and (store.get(run.ubn, run.number) or {}).get("status") != "cancelled":
            # Once cancelled, the cancel's own item decides the flag: finishing the issue's says
            # nothing about it (read now, not when this item started).
            fields["artifacts_pending"] = pending
        store.merge_fields(run.ubn, run.number, {"artifacts": artifacts, "delivery": delivery}, fields)
        run.record = run.record.model_copy(
            update={"artifacts": {**run.record.artifacts, **artifacts}, "delivery": {**run.record.delivery, **delivery}}
        )

    # --- state ----------------------------------------------------------------------------------------

    def _advance(self, run: _AnyRun, step: str, *, expect: str, to: str, result: dict[str, Any]) -> None:
        updated = self.outbox.move(run.ubn, run.number, run.event, step, expect=expect, to=to, result=result)
        if updated is None:
            # Someone else moved the step (a concurrent worker finished it, or took over an expired
            # lease). Their result stands; ours (same S3 key, or a message already sent) is logged.
            logger.warning(
                "outbox step changed under us",
                extra={"ubn": run.ubn, "invoice_number": run.number, "step": step, "result": result},
            )
            updated = self.outbox.get(run.ubn, run.number, run.event) or run.item
        run.item = updated
        self._publish(run)

    def _publish(self, run: _AnyRun) -> None:
        """Show on the invoice what the item holds: artifact keys and delivery results.

        Each key is set on its own (``artifacts.<step>``), from the item's results: a late or
        concurrent write can only repeat the same facts, and never drops another item's keys.
        """
        if isinstance(run, _AllowanceRun):
            self._publish_allowance(run)
            return
        if isinstance(run, _NoticeRun | _EventRun):
            return  # the result stays on the item: it belongs to no invoice
        artifacts: dict[str, Any] = {}
        delivery: dict[str, Any] = {}
        for step, state in run.item["steps"].items():
            result = run.item.get(result_attribute(step))
            if step in DOCUMENT_STEPS and state == DONE and result:
                artifacts[step] = result["key"]
            elif step in DELIVERY_STEPS and state in FINISHED:
                delivery[step] = result or {"status": SKIPPED}
        # Key by key, never the whole map: a later event (cancel, void, re-send) adds to what the
        # earlier ones published (the issued item's PDFs and XML stay listed next to the
        # F0501/F0701), and two items processed at once cannot drop each other's keys.
        self.invoices.merge_fields(run.ubn, run.number, {"artifacts": artifacts, "delivery": delivery})

    def _record_failure(self, run: _AnyRun, step: str, error: Exception) -> None:
        message = f"{step}: {type(error).__name__}: {error}"[:MAX_ERROR_CHARS]
        logger.warning(
            "outbox step failed; it will be retried",
            extra={"ubn": run.ubn, "invoice_number": run.number, "step": step, "error": message},
        )
        try:
            self.outbox.failed(run.ubn, run.number, run.event, error=message, at=_stamp(self.clock.now()))
        except Exception:
            # DynamoDB is down too: the original error is what the caller needs to see.
            logger.exception("could not record the outbox failure", extra={"invoice_number": run.number})

    def _profile(self, run: _AnyRun) -> dict[str, Any]:
        if run.profile is None:
            run.profile = self.merchants.get_profile(run.ubn) or {}
        return run.profile


def _step_order(event: str) -> tuple[str, ...]:
    if event.startswith(ALLOWANCE_PREFIX):
        return ALLOWANCE_STEP_ORDER
    if event == low_stock.EVENT:
        return low_stock.STEP_ORDER
    if event.startswith(EVENT_PREFIX):
        return (EVENT_STEP,)
    return STEP_ORDER


def _allowance_state(record: InvoiceRecord) -> tuple[int, int | None, str]:
    return record.allowance_count, record.allowance_remaining, record.status


def _created(item: dict[str, Any]) -> datetime:
    created = datetime.fromisoformat(str(item["created_at"]))
    return created if created.tzinfo else created.replace(tzinfo=UTC)
