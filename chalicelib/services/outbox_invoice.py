"""An invoice's outbox item: its MIG messages and PDFs, then the buyer's mail and SMS.

Events: ``issued`` (``xml → proof_pdf → a4_pdf → email → sms``; an exchanged invoice's XML step is
``a0101_xml``), ``cancelled`` and ``voided``
(services/invoice_lifecycle.py) with their own message first, ``notify-<stamp>`` (a re-send).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.domain.artifacts import ArtifactKind, download_name
from chalicelib.domain.events import Event
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.outbox_item import DONE, FINISHED, SKIPPED, result_attribute
from chalicelib.domain.public_invoice import lookup_link
from chalicelib.services.event_sources import invoice_events
from chalicelib.services.exchange_documents import a0101
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
from chalicelib.services.outbox_run import OutboxParts, Run

# A cancel (作廢) and a void (註銷) write their message first: the void's F0701 must reach the
# platform before the re-issued F0401 under the same number.
DOCUMENT_STEPS: dict[str, ArtifactKind] = {
    "f0501_xml": ArtifactKind.F0501_XML,
    "f0701_xml": ArtifactKind.F0701_XML,
    "xml": ArtifactKind.XML,
    "a0101_xml": ArtifactKind.A0101_XML,
    "proof_pdf": ArtifactKind.PROOF_PDF,
    "a4_pdf": ArtifactKind.A4_PDF,
}
DELIVERY_STEPS = ("email", "sms")
STEP_ORDER = (*DOCUMENT_STEPS, *DELIVERY_STEPS)
#: Events besides ``issued`` (see services/invoice_lifecycle.py); ``notify-<stamp>`` items re-send.
CANCELLED, VOIDED, NOTIFY_PREFIX = "cancelled", "voided", "notify-"


class InvoiceRun(Run):
    def __init__(
        self, parts: OutboxParts, ubn: str, number: str, event: str, item: dict[str, Any], record: InvoiceRecord
    ) -> None:
        super().__init__(parts, ubn, number, event, item)
        self.record = record
        self.rendered: dict[ArtifactKind, bytes] = {}  # the PDFs rendered in this pass

    def events(self) -> list[Event]:
        return invoice_events(self.item, view(self.record).model_dump(mode="json"))

    def do(self, step: str) -> bool:
        if step in DOCUMENT_STEPS:
            self._document(step, DOCUMENT_STEPS[step])
            return True
        return self._deliver(step)

    def publish(self) -> None:
        """Show on the invoice what the item holds: artifact keys and delivery results.

        Each key is set on its own (``artifacts.<step>``), from the item's results: a late or
        concurrent write can only repeat the same facts, and never drops another item's keys.
        """
        artifacts: dict[str, Any] = {}
        delivery: dict[str, Any] = {}
        for step, state in self.item["steps"].items():
            result = self.item.get(result_attribute(step))
            if step in DOCUMENT_STEPS and state == DONE and result:
                artifacts[step] = result["key"]
            elif step in DELIVERY_STEPS and state in FINISHED:
                delivery[step] = result or {"status": SKIPPED}
        # Key by key, never the whole map: a later event (cancel, void, re-send) adds to what the
        # earlier ones published (the issued item's PDFs and XML stay listed next to the
        # F0501/F0701), and two items processed at once cannot drop each other's keys.
        self.parts.invoices.merge_fields(self.ubn, self.number, {"artifacts": artifacts, "delivery": delivery})

    # --- documents ----------------------------------------------------------------------------------

    def _render(self, kind: ArtifactKind) -> bytes:
        render = self.parts.render_proof if kind is ArtifactKind.PROOF_PDF else self.parts.render_a4
        body = render(pdf_document(self.record))
        self.rendered[kind] = body
        return body

    def _document(self, step: str, kind: ArtifactKind) -> None:
        from chalicelib.documents.mig import build_xml

        if kind is ArtifactKind.XML:
            body = build_xml(f0401(self.record))
        elif kind is ArtifactKind.F0501_XML:
            body = build_xml(f0501(self.record))
        elif kind is ArtifactKind.F0701_XML:
            body = build_xml(f0701(self.record))
        elif kind is ArtifactKind.A0101_XML:
            body = build_xml(a0101(self.record))
        else:
            body = self._render(kind)
        key = self.parts.artifacts.put(self.ubn, self.record.period, self.number, kind, body)
        self.done(step, {"key": key})

    def _stored_pdf(self, kind: ArtifactKind) -> bytes:
        """The PDF the document step stored, rendered and stored again when the bucket lost it:
        a lost object is rebuilt from the invoice, never retried forever as a failed send."""
        stored = self.parts.artifacts.find(self.ubn, self.record.period, self.number, kind)
        if stored is not None:
            return stored
        body = self._render(kind)
        self.parts.artifacts.put(self.ubn, self.record.period, self.number, kind, body)
        return body

    # --- delivery -----------------------------------------------------------------------------------

    def _deliver(self, step: str) -> bool:
        settings = self.settings()
        record = self.record
        if step == "email":
            to = record.buyer.get("email")
            wanted = settings.email_buyer
        else:
            to = record.buyer.get("mobile")
            wanted = settings.sms_buyer
        if self.event.startswith(NOTIFY_PREFIX):
            # Asked for explicitly (POST .../notify), to the address given then or the buyer's: the
            # request is the merchant's choice for this one message, whatever the default settings say.
            to = (self.item.get("recipients") or {}).get(step) or to
            wanted = True
        if not (wanted and to):
            # The issuing transaction decided with the settings of that moment; the merchant may have
            # turned delivery off since, and an explicit "no" wins over a pending send.
            self.skip(step, "no address" if not to else "turned off in the merchant's settings")
            return True
        send = self._prepare_email(str(to)) if step == "email" else self._prepare_sms(str(to))
        return self.send_once(step, str(to), send)

    def _prepare_email(self, to: str) -> Callable[[], str]:
        """Build the whole mail before claiming the lease, so the lease covers the send alone."""
        reply_to = self.profile().get("email") or None
        link = self._lookup_link()
        if self.event == CANCELLED:
            raw = cancellation_email(
                self.record, to=to, sender=self.parts.mail_from, sent_at=self.now(), reply_to=reply_to, lookup_url=link
            )
            return lambda: self.parts.mailer.send(to, raw)
        kind = ArtifactKind.A4_PDF if self.record.is_b2b else ArtifactKind.PROOF_PDF
        pdf = self.rendered.get(kind) or self._stored_pdf(kind)
        notice = "reissued" if self.event == VOIDED else "resent" if self.event.startswith(NOTIFY_PREFIX) else "issued"
        raw = invoice_email(
            self.record,
            to=to,
            sender=self.parts.mail_from,
            attachment=Attachment(download_name(self.number, kind), pdf),
            sent_at=self.now(),
            reply_to=reply_to,
            notice=notice,
            lookup_url=link,
        )
        return lambda: self.parts.mailer.send(to, raw)

    def _lookup_link(self) -> str | None:
        """The public look-up page filled in for this invoice (domain/public_invoice.py)."""
        if not self.parts.public_url:
            return None
        record = self.record
        return lookup_link(self.parts.public_url, record.invoice_number, record.random_number, record.invoice_date)

    def _prepare_sms(self, to: str) -> Callable[[], str]:
        text = invoice_sms(self.record)
        return lambda: self.parts.texter.send(to, text)


class InvoiceKind:
    """Every event not claimed by another kind is an invoice's."""

    def handles(self, event: str) -> bool:
        return True

    def order(self, event: str) -> tuple[str, ...]:
        return STEP_ORDER

    def start(self, parts: OutboxParts, ubn: str, number: str, event: str, item: dict[str, Any]) -> Run:
        record = parts.invoices.get(ubn, number)
        if record is None:  # written in one transaction with the item: this is a bug, not a race
            raise LookupError(f"outbox item without its invoice: {ubn} {number}")
        return InvoiceRun(parts, ubn, number, event, item, record)
