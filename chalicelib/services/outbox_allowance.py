"""An allowance's outbox item (折讓, services/allowances.py): ``allowance_issued``,
``allowance_cancelled`` or ``allowance_voided`` (G0701, then the re-issue's G0401), naming the
allowance number in the item's ``invoice_number`` field. Its own documents (the G0501 or G0701
first, like an invoice's F0501 or F0701; the G0401; the A4 PDF) come before the
same leased ``email``; once done, the original invoices' PDFs are rendered again, since they print
the allowances in force."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.allowance_record import CANCELLED_EVENT, ISSUED_EVENT, VOIDED_EVENT, AllowanceRecord
from chalicelib.domain.artifacts import ArtifactKind, download_name
from chalicelib.domain.events import Event
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.outbox_item import DONE, FINISHED, SKIPPED, result_attribute
from chalicelib.observability import logger
from chalicelib.services import allowance_documents
from chalicelib.services.allowance_query import allowance_view
from chalicelib.services.event_sources import allowance_events
from chalicelib.services.invoice_documents import Attachment, pdf_document
from chalicelib.services.outbox_run import MAX_RENDERS, AllowanceRenderer, AllowanceStore, OutboxParts, Run

ALLOWANCE_PREFIX = "allowance_"
ALLOWANCE_DOCUMENT_STEPS: dict[str, ArtifactKind] = {
    "g0701_xml": ArtifactKind.G0701_XML,
    "g0501_xml": ArtifactKind.G0501_XML,
    "g0401_xml": ArtifactKind.G0401_XML,
    "allowance_pdf": ArtifactKind.ALLOWANCE_PDF,
}
ALLOWANCE_STEP_ORDER = (*ALLOWANCE_DOCUMENT_STEPS, "email")


def _store(parts: OutboxParts) -> AllowanceStore:
    if parts.allowances is None:
        raise RuntimeError("this outbox processor is not wired for allowances")
    return parts.allowances


class AllowanceRun(Run):
    def __init__(
        self, parts: OutboxParts, ubn: str, number: str, event: str, item: dict[str, Any], record: AllowanceRecord
    ) -> None:
        super().__init__(parts, ubn, number, event, item)
        self.record = record
        self.pdf: bytes | None = None  # the PDF rendered in this pass

    def events(self) -> list[Event]:
        return allowance_events(self.item, allowance_view(self.record).model_dump(mode="json"))

    def do(self, step: str) -> bool:
        if step in ALLOWANCE_DOCUMENT_STEPS:
            self._document(step, ALLOWANCE_DOCUMENT_STEPS[step])
            return True
        return self._email(step)  # the only delivery step of an allowance is the buyer's e-mail

    def complete(self) -> None:
        self.publish()
        self._refresh_invoice_pdfs()

    def publish(self) -> None:
        """Show on the allowance what its item holds, key by key (``artifacts.<step>``), so what the
        other event's item published stays (the cancel's PDF replaces the issue's under the same
        key, as it does in S3), even when both items are processed at once."""
        artifacts: dict[str, Any] = {}
        delivery: dict[str, Any] = {}
        for step, state in self.item["steps"].items():
            result = self.item.get(result_attribute(step))
            if step in ALLOWANCE_DOCUMENT_STEPS and state == DONE and result:
                artifacts[step] = result["key"]
            elif step == "email" and state in FINISHED:
                name = "cancellation_email" if self.event == CANCELLED_EVENT else step
                delivery[name] = result or {"status": SKIPPED}
        store = _store(self.parts)
        fields: dict[str, Any] = {}
        pending = any(state not in FINISHED for state in self.item["steps"].values())
        if self.event != ISSUED_EVENT:
            fields["artifacts_pending"] = pending
        elif (
            self.record.status != "cancelled" and (store.get(self.ubn, self.number) or {}).get("status") != "cancelled"
        ):
            # Once cancelled, the cancel's own item decides the flag: finishing the issue's says
            # nothing about it (read now, not when this item started).
            fields["artifacts_pending"] = pending
        store.merge_fields(self.ubn, self.number, {"artifacts": artifacts, "delivery": delivery}, fields)
        self.record = self.record.model_copy(
            update={
                "artifacts": {**self.record.artifacts, **artifacts},
                "delivery": {**self.record.delivery, **delivery},
            }
        )

    # --- steps --------------------------------------------------------------------------------------

    def _document(self, step: str, kind: ArtifactKind) -> None:
        from chalicelib.documents.mig import build_xml

        if kind is ArtifactKind.ALLOWANCE_PDF:
            # Rendered from the allowance as it is at render time, not as this item found it: the
            # issue's item finishing after a cancel must not put back an uncancelled PDF.
            self.done(step, {"key": self._render_pdf()})
            return
        if kind is ArtifactKind.G0401_XML:
            body = build_xml(allowance_documents.g0401(self.record))
        elif kind is ArtifactKind.G0701_XML:
            body = build_xml(allowance_documents.g0701(self.record))
        else:
            # The remark is not on the allowance: the cancel request left it on the item.
            body = build_xml(allowance_documents.g0501(self.record, self.item.get("remark")))
        key = self.parts.artifacts.put(self.ubn, self.record.period, self.number, kind, body)
        self.done(step, {"key": key})

    def _email(self, step: str) -> bool:
        to = self.record.buyer.get("email")
        if not (self.settings().email_buyer and to):
            self.skip(step, "no address" if not to else "turned off in the merchant's settings")
            return True
        cancelled = self.event == CANCELLED_EVENT
        attachment = None
        if not cancelled:
            kind = ArtifactKind.ALLOWANCE_PDF
            # A PDF the bucket lost is rendered and stored again rather than failing every retry.
            pdf = self.pdf or self.parts.artifacts.find(self.ubn, self.record.period, self.number, kind)
            if pdf is None:
                self._render_pdf()
                pdf = self.pdf
            assert pdf is not None  # noqa: S101 - _render_pdf keeps the bytes it stored
            attachment = Attachment(download_name(self.number, kind), pdf)
        raw = allowance_documents.allowance_email(
            self.record,
            to=str(to),
            sender=self.parts.mail_from,
            sent_at=self.now(),
            reply_to=self.profile().get("email") or None,
            attachment=attachment,
            cancelled=cancelled,
            corrected=self.event == VOIDED_EVENT,
        )
        return self.send_mail(step, str(to), raw)

    def _renderer(self) -> AllowanceRenderer:
        if self.parts.render_allowance is None:
            raise RuntimeError("this outbox processor is not wired for allowances")
        return self.parts.render_allowance

    def _render_pdf(self) -> str:
        """Render and store the allowance's PDF from its current state; its S3 key.

        The allowance only moves forward (issued → cancelled, or re-issued with one more void), so a
        render that finds that version unchanged after its own upload is never older than what any
        other worker stored: an issue's worker that raced a cancel or a void sees it afterwards and
        stores the newer PDF again."""
        store = _store(self.parts)
        key = ""
        for _ in range(MAX_RENDERS):
            raw = store.get(self.ubn, self.number)
            if raw is None:
                raise LookupError(f"allowance vanished: {self.ubn} {self.number}")
            self.record = AllowanceRecord.model_validate(raw)
            body = self._renderer()(allowance_documents.pdf_document(self.record))
            self.pdf = body
            key = self.parts.artifacts.put(self.ubn, self.record.period, self.number, ArtifactKind.ALLOWANCE_PDF, body)
            latest = store.get(self.ubn, self.number) or raw
            if _version(latest) == _version(raw):
                break
        return key

    def _refresh_invoice_pdfs(self) -> None:
        """Re-render the original invoices' proof and A4 under their usual keys: they print the
        allowances in force (count, amount, what remains), which this issue or cancel changed.

        Idempotent (fixed keys, rendered from the invoice as it is now), so a retry or a duplicate
        message only writes the same bytes again; a change that lands during the render is caught
        by comparing the allowance fields after the upload and rendering once more."""
        invoices = self.parts.invoices
        # A void's item also names the invoices the voided version reduced and the re-issue no longer does.
        numbers = [o.invoice_number for o in self.record.originals] + list(self.item.get("previous_originals") or [])
        for number in dict.fromkeys(numbers):
            for _ in range(MAX_RENDERS):
                record = invoices.get(self.ubn, number)
                if record is None:
                    logger.warning("allowance's invoice not found", extra={"ubn": self.ubn, "invoice_number": number})
                    break
                document = pdf_document(record)
                for kind, render in (
                    (ArtifactKind.PROOF_PDF, self.parts.render_proof),
                    (ArtifactKind.A4_PDF, self.parts.render_a4),
                ):
                    self.parts.artifacts.put(self.ubn, record.period, number, kind, render(document))
                latest = invoices.get(self.ubn, number)
                if latest is None or _allowance_state(latest) == _allowance_state(record):
                    break


def _version(raw: dict[str, Any]) -> tuple[str, int]:
    return str(raw.get("status") or "issued"), int(raw.get("void_count") or 0)


def _allowance_state(record: InvoiceRecord) -> tuple[int, int | None, str]:
    return record.allowance_count, record.allowance_remaining, record.status


class AllowanceKind:
    def handles(self, event: str) -> bool:
        return event.startswith(ALLOWANCE_PREFIX)

    def order(self, event: str) -> tuple[str, ...]:
        return ALLOWANCE_STEP_ORDER

    def start(self, parts: OutboxParts, ubn: str, number: str, event: str, item: dict[str, Any]) -> Run:
        raw = _store(parts).get(ubn, number)
        if raw is None:  # written in one transaction with the item: a bug, not a race
            raise LookupError(f"outbox item without its allowance: {ubn} {number}")
        return AllowanceRun(parts, ubn, number, event, item, AllowanceRecord.model_validate(raw))
