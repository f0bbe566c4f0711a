"""Purchase lists (進項存證清冊): a buyer's received invoices (E0502, 營業人進項存證發票檔) and received
allowances (E0503, 營業人進項存證折讓單檔) of one bimonthly period, as the MOF's download gives them,
and the same as CSV for a spreadsheet.

The invoices come from the buyer index the received-invoice list reads (gsi2 ``BUYER#<ubn>``), the
allowances from the allowances' buyer index (gsi2 ``ALLOWANCES_TO#<ubn>``), every page of the
period: cancelled ones are listed with their ``Cancel`` part (a buyer must know a purchase no longer
counts), and one voided and re-issued carries its last void in ``Void``.

The merchant is the caller's UBN and nothing else: both indexes are keyed by the buyer, so no
parameter can name another merchant's purchases.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.documents.csv_export import Cell, bilingual_csv
from chalicelib.domain.allowance_record import AllowanceRecord
from chalicelib.domain.errors import NotFound
from chalicelib.domain.invoice_record import HistoryEntry, InvoiceRecord
from chalicelib.domain.invoice_search import InvoiceFilter
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.services.allowance_documents import g0401
from chalicelib.services.invoice_documents import f0401
from chalicelib.services.invoice_query import InvoiceSearch

if TYPE_CHECKING:
    # lxml and the MIG models load only when a list is built as XML.
    from chalicelib.documents.mig import InputAllowance, InputInvoice, Party

#: Index page size while paging through a period (any size gives the same list).
PAGE_SIZE = 500
#: Documents per XML file: the envelope's InvoicePack holds at most 1000.
PER_FILE = 1000
INVOICES, ALLOWANCES = "E0502", "E0503"


class ReceivedAllowances(Protocol):
    def received_page(
        self, buyer_ubn: str, low: str, high: str, limit: int, start: Mapping[str, Any] | None
    ) -> tuple[list[AllowanceRecord], dict[str, Any] | None]:
        """One page of the allowances issued to ``buyer_ubn`` dated ``low`` to ``high``, newest
        first, and where the next page starts (None at the end)."""


@dataclass(frozen=True)
class PurchaseFile:
    """A list ready to send: its bytes, file name and media type, and which part of how many."""

    content: bytes
    filename: str
    media_type: str
    count: int
    part: int = 1
    parts: int = 1


def platform_party() -> Party:
    """⚠️ unverified: who an envelope is from. The MOF's own downloads name the platform; no source
    at hand gives its PartyId/RoutingId for E0502/E0503. The safer reading is an id that cannot be
    taken for any merchant's UBN: ``EINVOICE`` (the RoutingId seen on the MOF's E0501 envelopes)."""
    from chalicelib.documents.mig import Party

    return Party("EINVOICE", "EINVOICE", "電子發票平台 e-invoice platform")


def _bounds(period: Period) -> tuple[str, str]:
    # Index sort keys start with the ISO date; "~" sorts after every key of the last day.
    return period.first_day.isoformat(), period.last_day.isoformat() + "~"


def _taiwan(at: datetime | str) -> datetime:
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return moment.astimezone(TAIWAN_TZ)


def last_void(record: InvoiceRecord, buyer_ubn: str) -> HistoryEntry | None:
    """The latest void (註銷) that withdrew a version issued to ``buyer_ubn``. A void that withdrew
    a version issued to someone else is that buyer's business, not this one's."""
    for entry in reversed(record.history):
        if entry.event == "voided" and (entry.detail.get("buyer") or {}).get("ubn") == buyer_ubn:
            return entry
    return None


def _current_status(status: str) -> str:
    from chalicelib.documents.mig import CURRENT_STATUS

    return CURRENT_STATUS[status]


def e0502(record: InvoiceRecord, buyer_ubn: str) -> InputInvoice:
    """The E0502 document of a received invoice: the F0401's main data, lines and amounts as the
    seller issued them, plus its cancellation and its last void."""
    from chalicelib.documents.mig import InputInvoice

    issued = f0401(record)
    main = issued.main
    data: dict[str, Any] = {
        "main": {
            **main.model_dump(exclude={"seller", "buyer"}),
            "current_status": _current_status(record.status),
            "seller_id": main.seller.identifier,
            "seller_name": main.seller.name,
            "buyer_id": main.buyer.identifier,
            "buyer_name": main.buyer.name,
        },
        "details": [item.model_dump() for item in issued.details],
        "amount": issued.amount.model_dump(),
    }
    if record.cancellation:
        at = _taiwan(str(record.cancellation["cancelled_at"]))
        data["cancel"] = {
            "cancel_date": at.date(),
            "cancel_time": at.strftime("%H:%M:%S"),
            "cancel_reason": record.cancellation["reason"],
            "return_tax_document_number": record.cancellation.get("return_tax_document_number"),
            "cancel_remark": record.cancellation.get("remark"),
        }
    void = last_void(record, buyer_ubn)
    if void is not None:
        at = _taiwan(void.at)
        data["void"] = {
            "void_date": at.date(),
            "void_time": at.strftime("%H:%M:%S"),
            "void_reason": void.detail.get("reason"),
            "void_remark": void.detail.get("remark"),
        }
    return InputInvoice.from_data(data)


def e0503(record: AllowanceRecord) -> InputAllowance:
    """The E0503 document of a received allowance: the G0401's lines and amounts, plus its
    cancellation and its last void."""
    from chalicelib.documents.mig import InputAllowance

    issued = g0401(record)
    main = issued.main
    data: dict[str, Any] = {
        "main": {
            "allowance_number": main.allowance_number,
            "allowance_date": main.allowance_date,
            "current_status": _current_status(record.status),
            "seller_id": main.seller.identifier,
            "seller_name": main.seller.name,
            "buyer_id": main.buyer.identifier,
            "buyer_name": main.buyer.name,
            "allowance_type": main.allowance_type,
            "original_invoice_seller_id": main.seller.identifier,
            "original_invoice_buyer_id": main.buyer.identifier,
        },
        "details": [item.model_dump() for item in issued.details],
        "amount": issued.amount.model_dump(),
    }
    if record.status == "cancelled" and record.cancelled_at is not None:
        at = _taiwan(record.cancelled_at)
        # The cancellation's remark went to the G0501 only and is not kept on the allowance.
        data["cancel"] = {
            "cancel_date": at.date(),
            "cancel_time": at.strftime("%H:%M:%S"),
            "cancel_reason": record.cancel_reason,
        }
    if record.void_count and record.voided_at is not None:
        at = _taiwan(record.voided_at)
        data["void"] = {
            "void_date": at.date(),
            "void_time": at.strftime("%H:%M:%S"),
            "void_reason": record.void_reason,
            "void_remark": record.void_remark,
        }
    return InputAllowance.from_data(data)


# --- CSV ------------------------------------------------------------------------------------------

_STATUS = {"issued": ("已開立", "issued"), "cancelled": ("已作廢", "cancelled"), "voided": ("已註銷", "voided")}

INVOICE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("期別", "Period"),
    ("發票號碼", "Invoice number"),
    ("發票日期", "Invoice date"),
    ("發票時間", "Invoice time"),
    ("賣方統一編號", "Seller UBN"),
    ("賣方名稱", "Seller name"),
    ("買方統一編號", "Buyer UBN"),
    ("發票類別", "Invoice type"),
    ("課稅別", "Tax type"),
    ("銷售額", "Sales amount"),
    ("免稅銷售額", "Tax-free sales amount"),
    ("零稅率銷售額", "Zero-rated sales amount"),
    ("稅率", "Tax rate"),
    ("稅額", "Tax amount"),
    ("總計", "Total amount"),
    ("狀態", "Status"),
    ("作廢日期", "Cancel date"),
    ("作廢原因", "Cancel reason"),
    ("專案作廢核准文號", "Return tax document number"),
    ("註銷日期", "Void date"),
    ("註銷原因", "Void reason"),
)

ALLOWANCE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("期別", "Period"),
    ("折讓單號碼", "Allowance number"),
    ("折讓單日期", "Allowance date"),
    ("賣方統一編號", "Seller UBN"),
    ("賣方名稱", "Seller name"),
    ("買方統一編號", "Buyer UBN"),
    ("原發票號碼", "Original invoice numbers"),
    ("折讓金額（未稅）", "Allowed amount before tax"),
    ("折讓稅額", "Tax allowed"),
    ("折讓合計（含稅）", "Total allowed, tax included"),
    ("狀態", "Status"),
    ("作廢日期", "Cancel date"),
    ("作廢原因", "Cancel reason"),
    ("註銷日期", "Void date"),
    ("註銷原因", "Void reason"),
)


def _status(status: str) -> str:
    zh, en = _STATUS.get(status, (status, status))
    return f"{zh} / {en}"


def invoice_row(record: InvoiceRecord, buyer_ubn: str) -> list[Cell]:
    amounts = record.amounts
    cancellation = record.cancellation or {}
    cancelled_at = cancellation.get("cancelled_at")
    void = last_void(record, buyer_ubn)
    return [
        record.period,
        record.invoice_number,
        record.invoice_date,
        record.invoice_time,
        str(record.seller["ubn"]),
        str(record.seller.get("name") or ""),
        str(record.buyer.get("ubn") or ""),
        record.invoice_type,
        amounts.tax_type,
        Decimal(amounts.sales_amount),
        Decimal(amounts.free_tax_sales_amount),
        Decimal(amounts.zero_tax_sales_amount),
        Decimal(amounts.tax_rate),
        Decimal(amounts.tax_amount),
        Decimal(amounts.total_amount),
        _status(record.status),
        _taiwan(str(cancelled_at)).date() if cancelled_at else None,
        cancellation.get("reason"),
        cancellation.get("return_tax_document_number"),
        _taiwan(void.at).date() if void else None,
        void.detail.get("reason") if void else None,
    ]


def allowance_row(record: AllowanceRecord) -> list[Cell]:
    voided = record.voided_at if record.void_count else None
    return [
        record.period,
        record.allowance_number,
        record.allowance_date,
        str(record.seller["ubn"]),
        str(record.seller.get("name") or ""),
        str(record.buyer.get("ubn") or ""),
        " ".join(original.invoice_number for original in record.originals),
        Decimal(record.total_amount),
        Decimal(record.tax_amount),
        Decimal(record.total_amount + record.tax_amount),
        _status(record.status),
        _taiwan(record.cancelled_at).date() if record.cancelled_at else None,
        record.cancel_reason,
        _taiwan(voided).date() if voided else None,
        record.void_reason if voided else None,
    ]


# --- the use case ---------------------------------------------------------------------------------


def _nothing_listed(kind: str, period: Period) -> NotFound:
    what_en, what_zh = ("received invoices", "進項發票") if kind == INVOICES else ("received allowances", "進項折讓單")
    return NotFound(
        "NOTHING_RECEIVED",
        f"No {what_en} in period {period.code}: there is no {kind} list to download (the CSV is empty).",
        f"{period.code} 期沒有{what_zh}，沒有 {kind} 清冊可下載（CSV 為空白清單）。",
        "period",
    )


def _no_such_part(part: int, parts: int, size: int) -> NotFound:
    return NotFound(
        "NO_SUCH_PART",
        f"The list has {parts} file(s) of up to {size} documents; part {part} does not exist.",
        f"此清冊共 {parts} 個檔案（每檔最多 {size} 筆），沒有第 {part} 個。",
        "part",
    )


class PurchaseLists:
    def __init__(
        self,
        *,
        search: InvoiceSearch,
        allowances: ReceivedAllowances,
        page_size: int = PAGE_SIZE,
        per_file: int = PER_FILE,
    ) -> None:
        self._search = search
        self._allowances = allowances
        self._page_size = page_size
        self._per_file = min(per_file, PER_FILE)

    def invoices(self, ubn: str, period: Period) -> list[InvoiceRecord]:
        """Every invoice other merchants issued to ``ubn`` dated in ``period``, oldest first."""
        low, high = _bounds(period)
        found: list[InvoiceRecord] = []
        start: Mapping[str, Any] | None = None
        while True:
            page, start = self._search.issued_to(ubn, low, high, InvoiceFilter(), self._page_size, start)
            found += [r for r in page if r.buyer.get("ubn") == ubn and r.seller.get("ubn") != ubn]
            if start is None:
                break
        return sorted(found, key=lambda r: (r.invoice_date, r.invoice_time, str(r.seller["ubn"]), r.invoice_number))

    def allowances(self, ubn: str, period: Period) -> list[AllowanceRecord]:
        """Every allowance other merchants issued to ``ubn`` dated in ``period``, oldest first."""
        low, high = _bounds(period)
        found: list[AllowanceRecord] = []
        start: Mapping[str, Any] | None = None
        while True:
            page, start = self._allowances.received_page(ubn, low, high, self._page_size, start)
            found += [r for r in page if r.buyer.get("ubn") == ubn and r.seller.get("ubn") != ubn]
            if start is None:
                break
        return sorted(found, key=lambda r: (r.allowance_date, str(r.seller["ubn"]), r.allowance_number))

    # --- files --------------------------------------------------------------------------------------

    def xml(self, ubn: str, period_code: str, kind: str, part: int = 1) -> PurchaseFile:
        """Part ``part`` (1-based) of the period's list in an InvoiceEnvelope: up to 1000 E0502
        (``kind`` INVOICES) or E0503 documents, every one valid against its official schema."""
        from chalicelib.documents.mig import Party, build_envelope

        period = Period.parse(period_code)
        size = self._per_file
        messages: Sequence[InputInvoice | InputAllowance]
        if kind == INVOICES:
            invoices = self.invoices(ubn, period)
            count, parts = len(invoices), math.ceil(len(invoices) / size)
            chosen_invoices = invoices[(part - 1) * size : part * size]
            messages = [e0502(record, ubn) for record in chosen_invoices]
        else:
            allowances = self.allowances(ubn, period)
            count, parts = len(allowances), math.ceil(len(allowances) / size)
            chosen_allowances = allowances[(part - 1) * size : part * size]
            messages = [e0503(record) for record in chosen_allowances]
        if count == 0:
            raise _nothing_listed(kind, period)
        if not 1 <= part <= parts:
            raise _no_such_part(part, parts, size)
        document = build_envelope(messages, sender=platform_party(), receiver=Party(ubn, ubn))
        suffix = f"-{part}" if parts > 1 else ""
        return PurchaseFile(
            content=document,
            filename=f"{kind}-{period.code}-{ubn}{suffix}.xml",
            media_type="application/xml",
            count=count,
            part=part,
            parts=parts,
        )

    def csv(self, ubn: str, period_code: str, kind: str) -> PurchaseFile:
        """The period's whole list as CSV, one row per invoice (or allowance); an empty period is a
        header row alone."""
        period = Period.parse(period_code)
        if kind == INVOICES:
            invoices = self.invoices(ubn, period)
            content = bilingual_csv(INVOICE_COLUMNS, (invoice_row(r, ubn) for r in invoices))
            count, name = len(invoices), "invoices"
        else:
            allowances = self.allowances(ubn, period)
            content = bilingual_csv(ALLOWANCE_COLUMNS, (allowance_row(r) for r in allowances))
            count, name = len(allowances), "allowances"
        return PurchaseFile(
            content=content,
            filename=f"purchase-{name}-{period.code}-{ubn}.csv",
            media_type="text/csv",
            count=count,
        )
