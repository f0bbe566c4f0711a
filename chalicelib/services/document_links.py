"""Downloads of an invoice's or allowance's documents: a short-lived link, with the document built
first when it is not in the bucket.

The outbox normally stored it; if it has not yet (or the bucket was down then, or the object was
lost since: a local stack restarted, a bucket restored), it is built now from the stored record,
so a download never waits for the outbox nor links to nothing. Every download route goes through
here (api/invoices.py, api/received.py, api/allowances.py and the console's pages).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from chalicelib.domain.allowance_record import AllowanceRecord
from chalicelib.domain.artifacts import ArtifactKind
from chalicelib.domain.invoice_record import InvoiceRecord

if TYPE_CHECKING:
    from chalicelib.documents.pdf.allowance import AllowanceDocument
    from chalicelib.documents.pdf.model import InvoiceDocument


class DocumentStore(Protocol):
    def put(self, ubn: str, period: str, number: str, kind: ArtifactKind, body: bytes) -> str: ...

    def exists(self, ubn: str, period: str, number: str, kind: ArtifactKind) -> bool: ...

    def presign(self, ubn: str, period: str, number: str, kind: ArtifactKind, *, download: bool = False) -> str: ...


@dataclass(frozen=True)
class DocumentLinks:
    store: DocumentStore
    render_proof: Callable[[InvoiceDocument], bytes]
    render_a4: Callable[[InvoiceDocument], bytes]
    render_allowance: Callable[[AllowanceDocument], bytes]

    def invoice(self, record: InvoiceRecord, ubn: str, kind: ArtifactKind, *, download: bool = False) -> str:
        """A link to ``record``'s ``kind`` under ``ubn`` (the seller's prefix). The caller has
        checked who may see the invoice (its seller, or its buyer for a received one)."""
        # A record that says "stored" is checked too (a HEAD): its object may be gone since.
        if not self.store.exists(ubn, record.period, record.invoice_number, kind):
            self.store.put(ubn, record.period, record.invoice_number, kind, self._invoice_body(record, kind))
        return self.store.presign(ubn, record.period, record.invoice_number, kind, download=download)

    def winning_proof(self, record: InvoiceRecord, prize_mark: str, ubn: str, *, download: bool = False) -> str:
        """A link to the winning proof (中獎發票證明聯) of ``record``: the 5.7 cm proof with the 中獎
        mark and the prize. Built every time, from the invoice as it is now."""
        from dataclasses import replace

        from chalicelib.services.invoice_documents import pdf_document

        kind = ArtifactKind.WINNING_PROOF_PDF
        body = self.render_proof(replace(pdf_document(record), prize_mark=prize_mark))
        self.store.put(ubn, record.period, record.invoice_number, kind, body)
        return self.store.presign(ubn, record.period, record.invoice_number, kind, download=download)

    def allowance_pdf(self, record: AllowanceRecord, ubn: str, *, download: bool = False) -> str:
        kind = ArtifactKind.ALLOWANCE_PDF
        # While a cancel's item is pending, the bucket may still hold the PDF without the cancelled
        # mark: only an issued allowance's stored PDF, or one the outbox has finished, is trusted
        # as it is. Either is checked to be there: the object may have been lost since.
        trusted = record.status != "cancelled" or (record.artifacts.get(kind.value) and not record.artifacts_pending)
        if not (trusted and self.store.exists(ubn, record.period, record.allowance_number, kind)):
            from chalicelib.services.allowance_documents import pdf_document

            # The outbox's allowance_pdf step writes the same document to the same key: either may win.
            body = self.render_allowance(pdf_document(record))
            self.store.put(ubn, record.period, record.allowance_number, kind, body)
        return self.store.presign(ubn, record.period, record.allowance_number, kind, download=download)

    def _invoice_body(self, record: InvoiceRecord, kind: ArtifactKind) -> bytes:
        from chalicelib.documents.mig import build_xml
        from chalicelib.services.invoice_documents import f0401, pdf_document

        if kind is ArtifactKind.XML:
            return build_xml(f0401(record))
        if kind is ArtifactKind.A0101_XML:
            from chalicelib.services.exchange_documents import a0101

            return build_xml(a0101(record))
        render = self.render_proof if kind is ArtifactKind.PROOF_PDF else self.render_a4
        return render(pdf_document(record))
