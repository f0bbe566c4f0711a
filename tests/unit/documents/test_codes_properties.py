"""Property tests for the left/right QR payloads (reference §6.3, §6.4).

The payloads are decoded back by position and by splitting on ":", the way a reader would, and
checked against the input; nothing is compared to values produced by the module itself.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import date
from decimal import Decimal

import segno
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.documents.codes import ItemEncoding, QrInput, QrItem, QrPair, qr_pair

MAX_VERSION = 9  # the agreed printable limit (test_codes_capacity.py)
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]*[1-9])?")
FLAG_CODEC = {"0": "big5", "1": "utf-8"}
STRIPPED = {"Cc", "Cs", "Zl", "Zp"}

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

digits = "0123456789"
invoice_numbers = st.builds(
    lambda track, serial: track + serial,
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2),
    st.text(digits, min_size=8, max_size=8),
)
randoms = st.text(digits, min_size=4, max_size=4)
ubns = st.text(digits, min_size=8, max_size=8)
dates = st.dates(min_value=date(1912, 1, 1), max_value=date(2910, 12, 31))
verifications = st.text(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", min_size=22, max_size=22
).map(lambda s: s + "==")
merchant_areas = st.one_of(
    st.just("**********"),
    st.text(
        st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=":"),
        min_size=10,
        max_size=10,
    ),
)

# Names: anything unicode can hold, lone surrogates included, with the troublemakers over-weighted.
tricky = st.sampled_from([":", "：", "乾", "電", "池", "😀", "𠀋", "碁", "€", "\n", "\x00", "\u2028", "*", "é"])
names = st.text(st.one_of(tricky, st.characters(exclude_categories=())), max_size=60)
numbers = st.one_of(
    st.decimals(min_value=-(10**9), max_value=10**9, places=0),
    st.decimals(min_value=-(10**6), max_value=10**6, places=2),
    st.decimals(min_value=0, max_value=10**4, places=7),
    st.sampled_from([Decimal("1E+2"), Decimal("-0"), Decimal("2.500"), Decimal("0E-7")]),
)
items = st.lists(st.builds(QrItem, names, numbers, numbers), max_size=40).map(tuple)


@st.composite
def qr_inputs(draw: st.DrawFn) -> QrInput:
    total = draw(st.integers(0, 0xFFFFFFFF))
    sales = draw(st.integers(0, total))
    return QrInput(
        invoice_number=draw(invoice_numbers),
        invoice_date=draw(dates),
        random_number=draw(randoms),
        sales_amount=Decimal(sales),
        total_amount=Decimal(total),
        seller_ubn=draw(ubns),
        buyer_ubn=draw(st.none() | ubns),
        items=draw(items),
        merchant_area=draw(merchant_areas),
        encoding=draw(st.sampled_from(ItemEncoding)),
    )


def build(data: QrInput, verification: str, max_left: int | None) -> QrPair:
    return qr_pair(data, verification=verification, max_left_items=max_left)


def expected_name(name: str) -> str:
    return "".join("：" if ch == ":" else ch for ch in name if unicodedata.category(ch) not in STRIPPED)


@SETTINGS
@given(qr_inputs(), verifications, st.none() | st.integers(0, 5))
def test_left_fixed_fields_decode_back(data: QrInput, verification: str, max_left: int | None) -> None:
    left = build(data, verification, max_left).left
    d = data.invoice_date
    assert left[0:10] == data.invoice_number
    assert left[10:17] == f"{d.year - 1911:03d}{d.month:02d}{d.day:02d}"
    assert left[17:21] == data.random_number
    assert re.fullmatch(r"[0-9a-f]{16}", left[21:37])
    assert int(left[21:29], 16) == data.sales_amount
    assert int(left[29:37], 16) == data.total_amount
    assert left[37:45] == (data.buyer_ubn or "00000000")
    assert left[45:53] == data.seller_ubn
    assert left[53:77] == verification
    assert left[77] == ":"
    assert left[78:88] == data.merchant_area
    assert left[88] == ":"


@SETTINGS
@given(qr_inputs(), verifications, st.none() | st.integers(0, 5))
def test_items_and_counters_are_consistent(data: QrInput, verification: str, max_left: int | None) -> None:
    pair = build(data, verification, max_left)
    header = pair.left[89:].split(":")
    written, total, flag = int(header[0]), int(header[1]), header[2]
    left_fields = header[3:]
    if left_fields and left_fields[-1] == "":
        left_fields.pop()  # the ":" saying the list continues in the right QR
        assert pair.right != "**"
    assert pair.right.startswith("**")
    right_fields = pair.right[2:].split(":") if pair.right != "**" else []

    assert flag == data.encoding.value
    assert total == len(data.items) == pair.items_total
    assert written == pair.items_written <= total
    assert len(left_fields) % 3 == 0
    assert len(right_fields) % 3 == 0
    in_left = len(left_fields) // 3
    assert in_left == pair.items_in_left
    if max_left is not None:
        assert in_left <= max_left
    # Left then right are exactly the first `written` items, in order, each once.
    fields = left_fields + right_fields
    assert len(fields) == 3 * written
    for position, item in enumerate(data.items[:written]):
        name, quantity, price = fields[3 * position : 3 * position + 3]
        assert ":" not in name
        if data.encoding is ItemEncoding.UTF8:
            assert name == expected_name(item.name)
        else:
            wanted = expected_name(item.name)
            assert len(name) == len(wanted)
            ascii_for = {"／": "/", "＼": "\\"}
            assert all(got in (want, "?", ascii_for.get(want)) for got, want in zip(name, wanted, strict=True))
        assert PLAIN_DECIMAL.fullmatch(quantity), quantity
        assert PLAIN_DECIMAL.fullmatch(price), price
        assert Decimal(quantity) == item.quantity
        assert Decimal(price) == item.unit_price


@SETTINGS
@given(qr_inputs(), verifications, st.none() | st.integers(0, 5))
def test_every_payload_encodes_within_the_printable_version(
    data: QrInput, verification: str, max_left: int | None
) -> None:
    pair = build(data, verification, max_left)
    codec = FLAG_CODEC[data.encoding.value]
    for text, raw in ((pair.left, pair.left_bytes()), (pair.right, pair.right_bytes())):
        assert raw == text.encode(codec)
        assert raw.decode(codec) == text
        symbol = segno.make_qr(raw, mode="byte", error="L", boost_error=False)
        assert isinstance(symbol.version, int)
        assert symbol.version <= MAX_VERSION
        assert symbol.error == "L"


@SETTINGS
@given(qr_inputs(), verifications)
def test_short_item_lists_are_written_whole(data: QrInput, verification: str) -> None:
    # 5 items of at most 4 ASCII characters and small integers are at most ~ 5 * 20 bytes,
    # which always fits next to the ~ 100-byte left header.
    short = tuple(QrItem(f"i{n}", Decimal(n), Decimal(n * 10)) for n in range(5))
    pair = qr_pair(replace(data, items=short), verification=verification)
    assert pair.items_written == pair.items_in_left == 5
    assert pair.right == "**"
    assert not pair.left.endswith(":")
