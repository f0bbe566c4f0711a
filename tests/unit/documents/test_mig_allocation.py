"""Allocation imports: E0501 (bare and in a Turnkey envelope) and the platform's Big5 CSV."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.documents.mig import AllocationRecord, parse_allocation_csv, parse_e0501, period_from_range
from chalicelib.domain.errors import InvalidInput

FIXTURES = Path(__file__).parent / "fixtures"


def record(**overrides: object) -> AllocationRecord:
    values: dict[str, object] = {
        "ubn": "24634102",
        "invoice_type": "07",
        "period": "11312",
        "track": "AB",
        "begin_no": "10001050",
        "end_no": "10002099",
        "booklets": 21,
    }
    values.update(overrides)
    return AllocationRecord(**values)


# --- E0501 --------------------------------------------------------------------------------------


def test_e0501_single_record_without_envelope() -> None:
    records = parse_e0501((FIXTURES / "e0501_single.xml").read_bytes())
    assert records == [record()]
    assert records[0].track == "AB"  # upper-cased on import
    assert records[0].count == 1050


def test_e0501_envelope_with_many_records() -> None:
    records = parse_e0501((FIXTURES / "e0501_envelope.xml").read_bytes())
    assert records == [
        record(begin_no="10000000", end_no="10000049", booklets=1),
        record(invoice_type="08", track="CD", begin_no="99980950", end_no="99981949", booklets=20),
        record(ubn="12345675", period="11402", track="EF", begin_no="00000050", end_no="00000099", booklets=1),
    ]


def _single(**replace: str) -> bytes:
    data = (FIXTURES / "e0501_single.xml").read_bytes()
    for old, new in replace.items():
        data = data.replace(old.encode(), new.encode())
    return data


def _envelope(**replace: str) -> bytes:
    data = (FIXTURES / "e0501_envelope.xml").read_bytes()
    for old, new in replace.items():
        data = data.replace(old.encode(), new.encode(), 1)
    return data


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        (
            _envelope(**{"<e:InvoiceBooklet>20<": "<e:InvoiceBooklet>19<"}),
            "MIG_ALLOC_BOOKLETS",
            "InvoiceAssignNo[1].InvoiceBooklet",
        ),
        (
            _envelope(**{"<e:InvoiceBeginNo>99980950<": "<e:InvoiceBeginNo>99980951<"}),
            "MIG_ALLOC_BOUNDARY",
            "InvoiceAssignNo[1].InvoiceBeginNo",
        ),
        (
            _envelope(**{"<e:InvoiceEndNo>99981949<": "<e:InvoiceEndNo>99981948<"}),
            "MIG_ALLOC_BOUNDARY",
            "InvoiceAssignNo[1].InvoiceEndNo",
        ),
        (
            _single(**{">10002099<": ">10000999<"}),
            "MIG_ALLOC_RANGE",
            "InvoiceAssignNo[0].InvoiceEndNo",
        ),
        (_single(**{">11312<": ">11311<"}), "MIG_FIELD_PATTERN", "InvoiceAssignNo[0].YearMonth"),
        (_single(**{">24634102<": ">2463410<"}), "MIG_FIELD_PATTERN", "InvoiceAssignNo[0].Ban"),
        (_single(**{">07<": ">06<"}), "MIG_FIELD_ENUM", "InvoiceAssignNo[0].InvoiceType"),
        (_single(**{">ab<": ">a1<"}), "MIG_FIELD_PATTERN", "InvoiceAssignNo[0].InvoiceTrack"),
        (
            _single(**{"<InvoiceBooklet>21</InvoiceBooklet>": ""}),
            "MIG_FIELD_REQUIRED",
            "InvoiceAssignNo[0].InvoiceBooklet",
        ),
        (
            _single(**{"<Ban>24634102</Ban>": "<Ban>24634102</Ban><Ban>24634102</Ban>"}),
            "MIG_FIELD_ORDER",
            "InvoiceAssignNo[0].Ban",
        ),
        (
            _single(**{"E0501:4.1": "F0401:4.1"}),
            "MIG_XML_NAMESPACE",
            "InvoiceAssignNo[0]",
        ),
        (_single(**{"InvoiceAssignNo": "InvoiceAssign"}), "MIG_XML_ROOT", "InvoiceAssign"),
    ],
    ids=[
        "booklets",
        "begin-boundary",
        "end-boundary",
        "range",
        "odd-period",
        "ban",
        "type",
        "track",
        "missing",
        "repeated",
        "namespace",
        "root",
    ],
)
def test_e0501_errors_name_the_element(data: bytes, code: str, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_e0501(data)
    assert (caught.value.code, caught.value.field) == (code, field)


def test_e0501_empty_envelope_is_refused() -> None:
    data = b"<InvoiceEnvelope><From><PartyId>24634102</PartyId></From><InvoicePack/></InvoiceEnvelope>"
    with pytest.raises(InvalidInput) as caught:
        parse_e0501(data)
    assert caught.value.code == "MIG_ALLOC_EMPTY"


def test_e0501_older_namespace_version_is_read() -> None:
    assert parse_e0501(_single(**{"E0501:4.1": "E0501:4.0"})) == [record()]


def test_e0501_xxe_refused() -> None:
    payload = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<InvoiceAssignNo><Ban>&e;</Ban></InvoiceAssignNo>"
    )
    with pytest.raises(InvalidInput) as caught:
        parse_e0501(payload)
    assert caught.value.code == "MIG_XML_FORBIDDEN"


# --- CSV ----------------------------------------------------------------------------------------

CSV_TEXT = (
    "營業人統一編號,發票類別,發票類別名稱,期別,字軌,起號,迄號\r\n"
    "24634102,07,一般稅額計算之電子發票,113/11 ~ 113/12,AB,10001050,10002099\r\n"
    "24634102,08,特種稅額計算之電子發票,113/11 ~ 113/12,cd,99980950,99981949\r\n"
    "\r\n"
    '24634102,07,"一般稅額計算之電子發票",114/01~114/02, EF ,00000000,00000049\r\n'
)

CSV_RECORDS = [
    record(),
    record(invoice_type="08", track="CD", begin_no="99980950", end_no="99981949", booklets=20),
    record(period="11402", track="EF", begin_no="00000000", end_no="00000049", booklets=1),
]


def test_big5_csv_with_chinese_text_and_header() -> None:
    data = CSV_TEXT.encode("cp950")
    assert "營業人".encode("cp950") in data  # really Big5, not UTF-8
    assert parse_allocation_csv(data) == CSV_RECORDS


def test_csv_utf8_fallback_and_bom() -> None:
    assert parse_allocation_csv(CSV_TEXT.encode("utf-8")) == CSV_RECORDS
    assert parse_allocation_csv(CSV_TEXT.encode("utf-8-sig")) == CSV_RECORDS


def test_csv_without_header() -> None:
    body = CSV_TEXT.split("\r\n", 1)[1]
    assert parse_allocation_csv(body.encode("cp950")) == CSV_RECORDS


def _csv_with_row3(begin: str, end: str, period: str = "113/11 ~ 113/12", track: str = "GH") -> bytes:
    text = (
        "營業人統一編號,發票類別,發票類別名稱,期別,字軌,起號,迄號\n"
        "24634102,07,一般,113/11 ~ 113/12,AB,10001050,10002099\n"
        "24634102,07,一般,113/11 ~ 113/12,AB,10002100,10002149\n"
        f"24634102,07,一般,{period},{track},{begin},{end}\n"
    )
    return text.encode("cp950")


@pytest.mark.parametrize(
    ("begin", "end", "code", "field"),
    [
        ("10000001", "10000049", "MIG_ALLOC_BOUNDARY", "rows[3].begin_no"),
        ("10000025", "10000099", "MIG_ALLOC_BOUNDARY", "rows[3].begin_no"),
        ("10000000", "10000048", "MIG_ALLOC_BOUNDARY", "rows[3].end_no"),
        ("10000050", "10000050", "MIG_ALLOC_BOUNDARY", "rows[3].end_no"),
        ("10000100", "10000049", "MIG_ALLOC_RANGE", "rows[3].end_no"),
        ("1000000", "10000049", "MIG_FIELD_PATTERN", "rows[3].begin_no"),
        ("10000000", "1000049", "MIG_FIELD_PATTERN", "rows[3].end_no"),
    ],
)
def test_csv_invalid_booklet_boundaries_name_the_row(begin: str, end: str, code: str, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_allocation_csv(_csv_with_row3(begin, end))
    assert (caught.value.code, caught.value.field) == (code, field)
    assert caught.value.message.startswith(field)


@pytest.mark.parametrize("period", ["113/12 ~ 114/01", "113/11 ~ 113/11", "113/11 ~ 114/12", "11月", "11311"])
def test_csv_bad_period_names_the_row(period: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_allocation_csv(_csv_with_row3("10000000", "10000049", period=period))
    assert (caught.value.code, caught.value.field) == ("MIG_FIELD_PATTERN", "rows[3].period")


def test_csv_bad_track_names_the_row() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_allocation_csv(_csv_with_row3("10000000", "10000049", track="A1"))
    assert (caught.value.code, caught.value.field) == ("MIG_FIELD_PATTERN", "rows[3].track")


def test_csv_short_row_and_empty_file_and_bad_encoding() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_allocation_csv(b"24634102,07,x,113/11 ~ 113/12,AB,10000000\n")
    assert (caught.value.code, caught.value.field) == ("MIG_CSV_COLUMNS", "rows[0]")
    with pytest.raises(InvalidInput) as caught:
        parse_allocation_csv("營業人統一編號,發票類別,名稱,期別,字軌,起號,迄號\n".encode("cp950"))
    assert caught.value.code == "MIG_ALLOC_EMPTY"
    with pytest.raises(InvalidInput) as caught:
        parse_allocation_csv(b"\xff\xff\xff,\x80\x80")
    assert caught.value.code == "MIG_CSV_ENCODING"


def test_csv_single_digit_invoice_type_is_padded() -> None:
    data = b"24634102,7,,113/11 ~ 113/12,AB,10001050,10002099\n"
    assert parse_allocation_csv(data) == [record()]


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("113/11 ~ 113/12", "11312"),
        ("113/01~113/02", "11302"),
        ("99/5 - 99/6", "09906"),
        ("114/09 ～ 114/10", "11410"),
    ],
)
def test_period_from_range(text: str, period: str) -> None:
    assert period_from_range(text) == period


@given(
    begin_booklet=st.integers(0, 10**6 // 5 - 1),
    booklets=st.integers(1, 100),
    track=st.from_regex(r"\A[a-zA-Z]{2}\Z"),
)
def test_csv_booklets_are_count_over_50(begin_booklet: int, booklets: int, track: str) -> None:
    begin = begin_booklet * 50
    end = begin + booklets * 50 - 1
    if end > 99_999_999:
        return
    data = f"24634102,07,,113/11 ~ 113/12,{track},{begin:08d},{end:08d}\n".encode("cp950")
    (parsed,) = parse_allocation_csv(data)
    assert parsed.booklets == booklets
    assert parsed.track == track.upper()
    assert parsed.count == booklets * 50
