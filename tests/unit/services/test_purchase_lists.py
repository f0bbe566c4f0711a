"""The purchase lists' rules on fakes: every page of the period, oldest first, only the buyer's own;
cancelled and voided documents with their parts; files of at most PER_FILE documents; CSV cells."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from chalicelib.documents.mig import InputAllowance, InputInvoice, parse_envelope
from chalicelib.documents.mig.schema import schema_for
from chalicelib.domain.allowance_record import AllowanceRecord
from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.invoice_record import HistoryEntry, InvoiceRecord
from chalicelib.domain.invoice_search import InvoiceFilter
from chalicelib.domain.period import Period
from chalicelib.services.purchase_lists import ALLOWANCES, INVOICES, PurchaseLists
from tests.fakes.records import b2b_invoice

BUYER, SELLER, OTHER = "12345675", "24634102", "22099131"
PERIOD = "11412"  # Nov-Dec 2025


class Search:
    """The buyer index as DynamoDB serves it: by sort key, newest first, ``limit`` at a time."""

    def __init__(self, *records: InvoiceRecord) -> None:
        self.records = records
        self.pages = 0

    def issued_to(
        self, ubn: str, low: str, high: str, wanted: InvoiceFilter, limit: int, start: Mapping[str, Any] | None
    ) -> tuple[list[InvoiceRecord], dict[str, Any] | None]:
        self.pages += 1
        keyed = sorted(
            (
                (f"{r.invoice_date.isoformat()}T{r.invoice_time}#{r.seller['ubn']}#{r.invoice_number}", r)
                for r in self.records
                if r.buyer.get("ubn") == ubn
            ),
            reverse=True,
        )
        chosen = [(k, r) for k, r in keyed if low <= k <= high and (start is None or k < start["sk"])]
        page = chosen[:limit]
        more = len(chosen) > limit
        return [r for _, r in page], ({"sk": page[-1][0]} if more else None)

    def issued_by(self, *args: Any) -> Any:  # pragma: no cover - not a purchase
        raise AssertionError("the purchase lists never read the seller's list")


class Allowances:
    def __init__(self, *records: AllowanceRecord) -> None:
        self.records = records

    def received_page(
        self, buyer_ubn: str, low: str, high: str, limit: int, start: Mapping[str, Any] | None
    ) -> tuple[list[AllowanceRecord], dict[str, Any] | None]:
        keyed = sorted(
            (
                (f"{r.allowance_date.isoformat()}#{r.seller['ubn']}#{r.allowance_number}", r)
                for r in self.records
                if r.buyer.get("ubn") == buyer_ubn
            ),
            reverse=True,
        )
        chosen = [(k, r) for k, r in keyed if low <= k <= high and (start is None or k < start["sk"])]
        page = chosen[:limit]
        return [r for _, r in page], ({"sk": page[-1][0]} if len(chosen) > limit else None)


def _invoice(day: date, number: str, *, seller: str = SELLER, buyer: str = BUYER, sales: int = 1000) -> InvoiceRecord:
    return b2b_invoice(seller, buyer, sales=sales, tax=sales // 20, day=day, number=number)


def _cancelled(record: InvoiceRecord, at: datetime, reason: str = "買受人要求退貨") -> InvoiceRecord:
    cancellation = {"reason": reason, "remark": "退回全部", "cancelled_at": at.isoformat()}
    return record.model_copy(update={"status": "cancelled", "cancellation": cancellation})


def _voided(record: InvoiceRecord, at: datetime, withdrawn_buyer: str) -> InvoiceRecord:
    entry = HistoryEntry(
        at=at.isoformat(),
        event="voided",
        actor="api",
        detail={"reason": "品名錯誤", "remark": "重開", "buyer": {"ubn": withdrawn_buyer, "name": "舊買方"}},
    )
    return record.model_copy(update={"history": [*record.history, entry], "void_count": 1})


def _allowance(number: str, day: date, *, amount: int = 200, buyer: str = BUYER, **extra: Any) -> AllowanceRecord:
    return AllowanceRecord(
        allowance_number=number,
        allowance_date=day,
        period="11412",
        invoice_type="07",
        issued_at=datetime(2025, 11, 20, tzinfo=UTC),
        seller={"ubn": SELLER, "name": "賣方股份有限公司", "address": "臺北市"},
        buyer={"ubn": buyer, "name": "買方股份有限公司"},
        items=[
            {
                "sequence": 1,
                "original_invoice_number": "ZZ00000001",
                "original_invoice_date": date(2025, 11, 3),
                "description": "顧問服務折讓",
                "quantity": "1",
                "unit_price": str(amount),
                "amount": str(amount),
                "tax": amount // 20,
                "tax_type": "1",
            }
        ],
        tax_amount=amount // 20,
        total_amount=amount,
        originals=[{"invoice_number": "ZZ00000001", "invoice_date": date(2025, 11, 3), "amount": amount * 21 // 20}],
        prices_include_tax=False,
        **extra,
    )


def _service(invoices: tuple[InvoiceRecord, ...] = (), allowances: tuple[AllowanceRecord, ...] = (), **kw: Any):
    search = Search(*invoices)
    return PurchaseLists(search=search, allowances=Allowances(*allowances), **kw), search


def _valid_envelope(document: bytes, code: str) -> list[Any]:
    root = etree.fromstring(document)
    assert schema_for("InvoiceEnvelope").validate(root), str(schema_for("InvoiceEnvelope").error_log)
    for child in root.find("{urn:GEINV:InvoiceEnvelope:4.1}InvoicePack"):
        alone = etree.fromstring(etree.tostring(child))
        assert schema_for(code).validate(alone), str(schema_for(code).error_log)
    return list(parse_envelope(document, code).messages)


def test_every_page_of_the_period_is_listed_oldest_first_and_nothing_else() -> None:
    inside = [_invoice(date(2025, 11, day), f"AB{day:08d}") for day in (3, 28, 9, 15, 1)]
    outside = [
        _invoice(date(2025, 10, 31), "AB00000031"),  # the period before
        _invoice(date(2026, 1, 1), "AB00000101"),  # the next one
        _invoice(date(2025, 11, 5), "CD00000005", buyer=OTHER),  # another buyer's purchase
    ]
    service, search = _service((*inside, *outside), page_size=2)
    listed = service.invoices(BUYER, Period.parse(PERIOD))
    assert [r.invoice_number for r in listed] == ["AB00000001", "AB00000003", "AB00000009", "AB00000015", "AB00000028"]
    assert search.pages == 3  # 5 invoices, 2 a page: every page was read


def test_a_cancelled_invoice_is_listed_with_its_cancellation_in_taiwan_time() -> None:
    # Cancelled at 17:30 UTC on 30 November: 01:30 on 1 December in Taiwan.
    cancelled = _cancelled(_invoice(date(2025, 11, 20), "AB00000020"), datetime(2025, 11, 30, 17, 30, tzinfo=UTC))
    in_force = _invoice(date(2025, 11, 21), "AB00000021", sales=2000)
    service, _ = _service((cancelled, in_force))
    file = service.xml(BUYER, PERIOD, INVOICES)
    assert (file.count, file.parts, file.media_type) == (2, 1, "application/xml")
    assert file.filename == f"E0502-{PERIOD}-{BUYER}.xml"
    first, second = _valid_envelope(file.content, "E0502")
    assert isinstance(first, InputInvoice)
    assert first.main.invoice_number == "AB00000020"
    assert (first.main.current_status, second.main.current_status) == ("1", "0")
    assert first.cancel is not None
    assert (first.cancel.cancel_date, first.cancel.cancel_time.isoformat()) == (date(2025, 12, 1), "01:30:00")
    assert (first.cancel.cancel_reason, first.cancel.cancel_remark) == ("買受人要求退貨", "退回全部")
    assert second.cancel is None and second.void is None
    assert (second.main.seller_id, second.main.buyer_id) == (SELLER, BUYER)
    assert second.amount is not None
    assert (second.amount.sales_amount, second.amount.tax_amount, second.amount.total_amount) == (2000, 100, 2100)


def test_a_void_is_shown_only_to_the_buyer_of_the_version_it_withdrew() -> None:
    at = datetime(2025, 11, 22, 2, 0, tzinfo=UTC)
    mine = _voided(_invoice(date(2025, 11, 22), "AB00000022"), at, withdrawn_buyer=BUYER)
    # Voided from another buyer and re-issued to this one: that void is the other buyer's business.
    moved = _voided(_invoice(date(2025, 11, 23), "AB00000023"), at, withdrawn_buyer=OTHER)
    service, _ = _service((mine, moved))
    first, second = _valid_envelope(service.xml(BUYER, PERIOD, INVOICES).content, "E0502")
    assert first.main.current_status == "0"  # re-issued: in force again
    assert first.void is not None
    assert (first.void.void_date, first.void.void_time.isoformat(), first.void.void_reason) == (
        date(2025, 11, 22),
        "10:00:00",
        "品名錯誤",
    )
    assert second.void is None


def test_a_long_list_comes_in_files_of_at_most_per_file_documents() -> None:
    invoices = tuple(_invoice(date(2025, 11, day), f"AB{day:08d}") for day in range(1, 6))
    service, _ = _service(invoices, per_file=2)
    files = [service.xml(BUYER, PERIOD, INVOICES, part=part) for part in (1, 2, 3)]
    assert [(f.part, f.parts, f.count) for f in files] == [(1, 3, 5), (2, 3, 5), (3, 3, 5)]
    assert files[1].filename == f"E0502-{PERIOD}-{BUYER}-2.xml"
    numbers = [m.main.invoice_number for f in files for m in _valid_envelope(f.content, "E0502")]
    assert numbers == [f"AB{day:08d}" for day in range(1, 6)]
    with pytest.raises(NotFound) as caught:
        service.xml(BUYER, PERIOD, INVOICES, part=4)
    assert caught.value.field == "part"


def test_an_empty_period_has_no_xml_but_an_empty_csv_and_a_bad_period_is_named() -> None:
    service, _ = _service()
    with pytest.raises(NotFound) as caught:
        service.xml(BUYER, PERIOD, ALLOWANCES)
    assert (caught.value.code, caught.value.field) == ("NOTHING_RECEIVED", "period")
    empty = service.csv(BUYER, PERIOD, ALLOWANCES)
    assert len(list(csv.reader(io.StringIO(empty.content.decode("utf-8-sig"))))) == 1  # the header alone
    for bad in ("11411", "1141", "abcde"):
        with pytest.raises(InvalidInput) as refused:
            service.csv(BUYER, bad, INVOICES)
        assert (refused.value.code, refused.value.field) == ("INVALID_PERIOD", "period")


def test_csv_rows_carry_decimal_amounts_and_a_formula_never_runs() -> None:
    hostile = _invoice(date(2025, 11, 4), "AB00000004", sales=1234)
    hostile = hostile.model_copy(update={"seller": {**hostile.seller, "name": '=HYPERLINK("http://x")'}})
    cancelled = _cancelled(_invoice(date(2025, 11, 5), "AB00000005"), datetime(2025, 11, 6, 1, tzinfo=UTC), "-1")
    service, _ = _service((hostile, cancelled))
    file = service.csv(BUYER, PERIOD, INVOICES)
    assert file.content.startswith(b"\xef\xbb\xbf") and file.media_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(file.content.decode("utf-8-sig"))))
    first, second = rows
    assert first["發票號碼 / Invoice number"] == "AB00000004"
    assert first["賣方名稱 / Seller name"] == '\'=HYPERLINK("http://x")'
    assert (first["銷售額 / Sales amount"], first["稅額 / Tax amount"], first["總計 / Total amount"]) == (
        "1234",
        "61",
        "1295",
    )
    assert Decimal(first["稅率 / Tax rate"]) == Decimal("0.05")
    assert first["狀態 / Status"] == "已開立 / issued" and first["作廢日期 / Cancel date"] == ""
    assert second["狀態 / Status"] == "已作廢 / cancelled"
    assert (second["作廢日期 / Cancel date"], second["作廢原因 / Cancel reason"]) == ("2025-11-06", "'-1")


def test_received_allowances_list_with_their_cancellation_and_void() -> None:
    cancelled = _allowance(
        "AL1",
        date(2025, 11, 10),
        status="cancelled",
        cancelled_at=datetime(2025, 11, 11, 16, 0, tzinfo=UTC),
        cancel_reason="開立錯誤",
    )
    voided = _allowance(
        "AL2",
        date(2025, 11, 12),
        amount=400,
        void_count=1,
        voided_at=datetime(2025, 11, 12, 3, 0, tzinfo=UTC),
        void_reason="金額錯誤",
        void_remark="改為 400",
    )
    service, _ = _service(allowances=(voided, cancelled, _allowance("AL3", date(2025, 11, 13), buyer=OTHER)))
    first, second = _valid_envelope(service.xml(BUYER, PERIOD, ALLOWANCES).content, "E0503")
    assert isinstance(first, InputAllowance)
    assert [m.main.allowance_number for m in (first, second)] == ["AL1", "AL2"]
    assert (first.main.current_status, second.main.current_status) == ("1", "0")
    assert first.cancel is not None and first.cancel.cancel_date == date(2025, 11, 12)  # 00:00 in Taiwan
    assert second.void is not None and (second.void.void_reason, second.void.void_remark) == ("金額錯誤", "改為 400")
    assert (second.amount.total_amount, second.amount.tax_amount) == (400, 20)
    assert second.details[0].original_invoice_number == "ZZ00000001"

    rows = list(csv.DictReader(io.StringIO(service.csv(BUYER, PERIOD, ALLOWANCES).content.decode("utf-8-sig"))))
    assert [r["折讓單號碼 / Allowance number"] for r in rows] == ["AL1", "AL2"]
    assert rows[1]["折讓合計（含稅） / Total allowed, tax included"] == "420"
    assert rows[1]["註銷原因 / Void reason"] == "金額錯誤"
    assert rows[0]["作廢日期 / Cancel date"] == "2025-11-12"
