"""PDF proof (電子發票證明聯) and A4 invoice: rendered for real, rasterised and scanned.

Each PDF is rasterised with poppler's ``pdftoppm -r 300`` and scanned with ``zbarimg``: the Code 39
and both QR codes must decode to exactly the payloads built by ``chalicelib.documents.codes``
(the published test key). Text is checked with ``pdftotext``, which maps every glyph back to
Unicode through the ToUnicode CMap fpdf2 writes, including 𠀋 (U+2000B, outside Big5, drawn from
the fallback font).

These tests need poppler-utils and zbar-tools (and the fonts from ``make fonts``): when a tool is
missing they FAIL, telling to run ``make deps``. They never skip, so a machine without the tools
cannot report the printed codes as checked.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest

from chalicelib.documents.codes import QrInput, QrItem, barcode_content, qr_pair
from chalicelib.documents.pdf import DocumentItem, InvoiceDocument, render_a4, render_proof
from chalicelib.domain.period import Period

AES_KEY = "FE05F029154F6AA67A78B338ED2F6601"  # the spec's published test key (§6.5)
TOOLS = ("pdftoppm", "zbarimg", "pdftotext", "pdfinfo")
MM_PER_PT = 25.4 / 72

RARE_ITEM = "鑫龘牌 乾電池 3號:4入"  # 龘 is in Big5; the ":" must not break the QR fields
OUTSIDE_BIG5_ITEM = "𠀋 特製口罩"  # 𠀋 U+2000B (CJK Ext. B) is in no Big5 table


@pytest.fixture(scope="module", autouse=True)
def pdf_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: run `make deps` (installs poppler-utils and zbar-tools)",
            pytrace=False,
        )


# --- documents ----------------------------------------------------------------------------------


def make_document(
    items: Sequence[tuple[str, str, str | None, str]],
    *,
    buyer_ubn: str | None = None,
    buyer_name: str | None = None,
    number: str = "AB12345678",
    random_number: str = "1234",
    **extra: object,
) -> InvoiceDocument:
    """An invoice with real codes: items are (name, quantity, unit, unit price), taxable at 5 %."""
    day = date(2024, 11, 5)
    period = Period.from_date(day)
    lines = tuple(
        DocumentItem(
            description=name,
            quantity=Decimal(qty),
            unit=unit,
            unit_price=Decimal(price),
            amount=Decimal(qty) * Decimal(price),
            tax_type="1",
        )
        for name, qty, unit, price in items
    )
    total = sum((line.amount for line in lines), Decimal(0))
    sales = (total / Decimal("1.05")).quantize(Decimal(1))
    pair = qr_pair(
        QrInput(
            invoice_number=number,
            invoice_date=day,
            random_number=random_number,
            sales_amount=sales,
            total_amount=total,
            seller_ubn="24634102",
            buyer_ubn=buyer_ubn,
            items=tuple(QrItem(line.description, line.quantity, line.unit_price) for line in lines),
        ),
        key_hex=AES_KEY,
    )
    doc = InvoiceDocument(
        invoice_number=number,
        invoice_date=day,
        invoice_time=time(14, 30, 5),
        period_label=period.label_zh,
        random_number=random_number,
        seller_ubn="24634102",
        seller_name="好市多股份有限公司內湖分公司",
        seller_address="台北市內湖區舊宗路一段268號",
        buyer_ubn=buyer_ubn,
        buyer_name=buyer_name,
        items=lines,
        sales_amount=sales,
        free_tax_sales_amount=Decimal(0),
        zero_tax_sales_amount=Decimal(0),
        tax_amount=total - sales,
        total_amount=total,
        tax_type="1",
        barcode=barcode_content(period.code, number, random_number),
        qr_left=pair.left,
        qr_right=pair.right,
    )
    return dataclasses.replace(doc, **extra)  # type: ignore[arg-type]


ITEMS = [(RARE_ITEM, "1", "組", "105"), (OUTSIDE_BIG5_ITEM, "2", "盒", "210"), ("有機鮮乳 936ml", "3", "瓶", "95")]

B2C_CARRIER = make_document(ITEMS, carrier_type="3J0002", carrier_id="/ABC1234", print_mark=False)
B2B = make_document(
    [("伺服器維護服務 2024年11月", "1", "式", "12000"), ("備份磁帶 LTO-9", "4", "卷", "3150")],
    buyer_ubn="12345678",
    buyer_name="範例科技股份有限公司",
    number="CD87654321",
    random_number="0087",
)
DONATED = make_document(ITEMS[:1], donation_code="8585", print_mark=False)
MANY = make_document(
    [
        (f"第{i:02d}項 測試商品{'（加長品名，需要換行顯示於表格內）' * (i % 4 == 0)}", "1", "個", str(10 + i))
        for i in range(1, 61)
    ]
)

FULL_CODES = make_document([(f"鑫龘牌 乾電池 {i}號", "1", "組", "105") for i in range(12)])


# --- tools --------------------------------------------------------------------------------------


def _run(args: list[str]) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout  # noqa: S603 - fixed argv


def scan(pdf: bytes, tmp: Path, *, page: int = 1) -> list[str]:
    """Every barcode/QR zbar finds on ``page`` rendered at 300 dpi, one string per symbol."""
    (tmp / "doc.pdf").write_bytes(pdf)
    _run(["pdftoppm", "-r", "300", "-png", "-f", str(page), "-l", str(page), str(tmp / "doc.pdf"), str(tmp / "page")])
    (png,) = sorted(tmp.glob("page*.png"))
    result = subprocess.run(  # noqa: S603 - fixed argv
        ["zbarimg", "--raw", "-q", str(png)],  # noqa: S607 - a system tool, found on PATH like the others
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"zbarimg found nothing: {result.stderr}"
    return sorted(result.stdout.splitlines())


def text_of(pdf: bytes, tmp: Path) -> str:
    path = tmp / "text.pdf"
    path.write_bytes(pdf)
    return _run(["pdftotext", "-layout", str(path), "-"])


def text_of_plain(pdf: bytes, tmp: Path) -> str:
    """Text in reading order (no -layout): a wrapped cell's lines come out one after the other."""
    path = tmp / "plain.pdf"
    path.write_bytes(pdf)
    return _run(["pdftotext", str(path), "-"])


def page_info(pdf: bytes, tmp: Path) -> tuple[int, float, float]:
    """(pages, width mm, height mm) of the first page, from pdfinfo."""
    path = tmp / "info.pdf"
    path.write_bytes(pdf)
    info = _run(["pdfinfo", str(path)])
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    width, height = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups()  # type: ignore[union-attr]
    return pages, float(width) * MM_PER_PT, float(height) * MM_PER_PT


def expected_codes(doc: InvoiceDocument) -> list[str]:
    return sorted([doc.barcode, doc.qr_left, doc.qr_right])


@pytest.fixture
def tmp(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


# --- proof --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc", [B2C_CARRIER, B2B, DONATED, FULL_CODES], ids=["b2c-carrier", "b2b", "donated", "full-version-9"]
)
def test_proof_codes_decode_exactly(doc: InvoiceDocument, tmp: Path) -> None:
    assert scan(render_proof(doc), tmp) == expected_codes(doc)


def test_full_payloads_make_the_largest_symbols() -> None:
    """FULL_CODES nearly fills both QR codes, so the proof above scans version 9 symbols at 20 mm."""
    from chalicelib.documents.pdf import _common

    left, right = _common.qr_symbols(FULL_CODES.qr_left, FULL_CODES.qr_right)
    assert (left.version, right.version) == (9, 9)
    assert min(len(FULL_CODES.qr_left.encode()), len(FULL_CODES.qr_right.encode())) > 215


def test_proof_is_57mm_wide_single_page(tmp: Path) -> None:
    pages, width, height = page_info(render_proof(B2C_CARRIER), tmp)
    assert (pages, round(width, 1), round(height, 1)) == (1, 57.0, 90.0)


def test_proof_b2c_text(tmp: Path) -> None:
    text = text_of(render_proof(B2C_CARRIER), tmp)
    for expected in ("電子發票證明聯", "113年11-12月", "AB-12345678", "2024-11-05 14:30:05", "隨機碼 1234"):
        assert expected in text
    assert "總計 810" in text  # 1 x 105 + 2 x 210 + 3 x 95
    assert "賣方 24634102" in text
    assert "格式" not in text and "買方" not in text  # consumer: no format code, no buyer UBN
    assert "補印" not in text


def test_proof_b2b_prints_format_25_and_buyer(tmp: Path) -> None:
    text = text_of(render_proof(B2B), tmp)
    assert "格式 25" in text
    assert "買方 12345678" in text and "賣方 24634102" in text
    assert "CD-87654321" in text and "隨機碼 0087" in text


def test_proof_donated_masks_number(tmp: Path) -> None:
    text = text_of(render_proof(DONATED), tmp)
    assert "AB-12345***" in text
    assert "AB-12345678" not in text


def test_proof_reprint_title(tmp: Path) -> None:
    assert "電子發票證明聯補印" in text_of(render_proof(dataclasses.replace(B2B, reprint=True)), tmp)


@pytest.mark.parametrize(("status", "mark"), [("cancelled", "作廢"), ("voided", "註銷")])
def test_cancelled_and_voided_are_marked_and_still_scan(status: str, mark: str, tmp: Path) -> None:
    doc = dataclasses.replace(B2B, status=status)
    proof = render_proof(doc)
    assert mark in text_of(proof, tmp)
    assert scan(proof, tmp) == expected_codes(doc)  # the stamp stays clear of the codes
    assert mark in text_of(render_a4(doc), tmp)


def test_unknown_status_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown invoice status"):
        render_proof(dataclasses.replace(B2B, status="draft"))


# --- A4 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("doc", [B2C_CARRIER, B2B, DONATED], ids=["b2c-carrier", "b2b", "donated"])
def test_a4_codes_decode_exactly(doc: InvoiceDocument, tmp: Path) -> None:
    assert scan(render_a4(doc), tmp) == expected_codes(doc)


def test_a4_b2c_text_has_every_item_including_rare_characters(tmp: Path) -> None:
    pdf = render_a4(B2C_CARRIER)
    text = text_of(pdf, tmp)
    for expected in ("電子發票", "AB-12345678", "113年11-12月", "1234", "好市多股份有限公司內湖分公司", "24634102"):
        assert expected in text
    for name, *_ in ITEMS:
        assert name in text, name
    assert "鑫龘" in text and "𠀋" in text
    assert "3J0002 /ABC1234" in text and "未列印" in text
    pages, width, height = page_info(pdf, tmp)
    assert (pages, round(width), round(height)) == (1, 210, 297)


def test_a4_b2b_text(tmp: Path) -> None:
    text = text_of(render_a4(B2B), tmp)
    # 12,000 + 4 x 3,150 = 24,600 in total, of which 23,429 sales and 1,171 tax
    for expected in (
        "CD-87654321",
        "範例科技股份有限公司",
        "12345678",
        "格式 Format",
        "12,600",
        "23,429",
        "1,171",
        "24,600",
    ):
        assert expected in text, expected


def test_a4_donated_masks_number(tmp: Path) -> None:
    text = text_of(render_a4(DONATED), tmp)
    assert "AB-12345***" in text and "8585" in text
    assert "AB-12345678" not in text


def test_a4_many_items_flow_over_pages_with_header_repeated(tmp: Path) -> None:
    pdf = render_a4(MANY)
    pages, _, _ = page_info(pdf, tmp)
    assert pages >= 3
    text = text_of(pdf, tmp)
    assert text.count("品名 Description") == pages  # the table header on every page
    assert f"第 {pages} / {pages} 頁" in text
    # Long names wrap (at the space here), so compare without whitespace.
    compact = "".join(text_of_plain(pdf, tmp).split())
    for item in MANY.items:
        assert "".join(item.description.split()) in compact, item.description
    assert scan(pdf, tmp) == expected_codes(MANY)


ALLOWED = dataclasses.replace(
    B2B, allowance_count=2, allowance_total=Decimal("24270"), allowance_remaining=Decimal("330")
)


def test_allowances_are_shown_on_the_a4_and_noted_on_the_proof(tmp: Path) -> None:
    a4 = render_a4(ALLOWED)
    text = text_of(a4, tmp)
    assert "已開立折讓 2 筆，折讓金額 NT$24,270（含稅），剩餘可折讓 NT$330" in text
    assert "2 allowances, NT$24,270 incl. tax; NT$330 remaining" in text
    assert scan(a4, tmp) == expected_codes(ALLOWED)
    proof = render_proof(ALLOWED)
    assert "已折讓 2 筆" in text_of(proof, tmp)
    assert scan(proof, tmp) == expected_codes(ALLOWED)  # the note stays clear of the codes
    assert page_info(proof, tmp)[0] == 1


def test_no_allowance_prints_no_allowance_note(tmp: Path) -> None:
    assert "折讓" not in text_of(render_a4(B2B), tmp)
    assert "折讓" not in text_of(render_proof(B2B), tmp)


# --- fonts and imports --------------------------------------------------------------------------


def test_fonts_are_parsed_once_per_process() -> None:
    from chalicelib.documents.pdf import _fonts

    render_proof(B2B)
    render_a4(B2C_CARRIER)  # also loads the fallback font (𠀋)
    parsed = _fonts.CACHE.parses
    for doc in (B2B, B2C_CARRIER, DONATED, MANY):
        render_proof(doc)
        render_a4(doc)
    assert _fonts.CACHE.parses == parsed <= 3


def test_qr_path_fills_exactly_the_dark_modules() -> None:
    """The rectangles of ``_qr_path`` (module units) cover every dark module once and no light one."""
    from chalicelib.documents.pdf import _common

    for payload in (B2C_CARRIER.qr_left, FULL_CODES.qr_right):
        symbol, _ = _common.qr_symbols(payload, "**")
        matrix = symbol.matrix
        painted = [[0] * len(row) for row in matrix]
        for op in _common._qr_path(matrix, 10, 200, 57).splitlines():
            if op.endswith(" re"):
                col, row, width, height = map(int, op.split()[:4])
                for r in range(row, row + height):
                    for c in range(col, col + width):
                        painted[r][c] += 1
        assert painted == [list(row) for row in matrix]


def test_cached_fonts_draw_exactly_what_plain_fpdf2_draws(tmp: Path) -> None:
    """The cached per-glyph-set CFF tables handed to fpdf2's output (``_fonts._CompiledCFF``)
    rasterise pixel for pixel like fpdf2 loading and subsetting the same font files itself."""
    from fpdf import FPDF

    from chalicelib.documents.pdf import _common, _fonts

    text = f"電子發票證明聯 AB-12345678 隨機碼 1234 總計 130 {OUTSIDE_BIG5_ITEM}"

    def draw(pdf: FPDF) -> FPDF:
        pdf.set_auto_page_break(auto=False)
        pdf.add_page()
        for style, y in (("", 5), ("B", 15)):
            pdf.set_font(_fonts.FAMILY, style, 12)
            pdf.set_xy(5, y)
            pdf.cell(text=text)
        return pdf

    def cached() -> bytes:
        return _common.finish(draw(_common.new_pdf([text], title="t", page_format=(120, 30))))

    plain = FPDF(unit="mm", format=(120, 30))
    for key, source in {**_fonts._sources(), _fonts.FALLBACK: _fonts._fallback_source()}.items():
        assert source is not None, key
        plain.add_font(source.family, source.style, source.path, collection_font_number=source.face)
    plain.set_fallback_fonts([_fonts.FALLBACK], exact_match=False)

    cached()  # the first document may cut the glyph sets; the second one takes them from the cache
    pages = {}
    for name, data in (("cached", cached()), ("plain", bytes(draw(plain).output()))):
        path = tmp / f"{name}.pdf"
        path.write_bytes(data)
        _run(["pdftoppm", "-r", "150", "-gray", str(path), str(tmp / name)])
        (page,) = tmp.glob(f"{name}-*.pgm")
        pages[name] = page.read_bytes()
    assert pages["cached"] == pages["plain"]


def test_outside_big5_glyph_comes_from_the_fallback_font() -> None:
    """The fallback font is attached only when needed, and 𠀋 is drawn from it."""
    from chalicelib.documents.pdf import _common, _fonts

    pdf = _common.new_pdf([OUTSIDE_BIG5_ITEM], title="t", page_format="A4")
    pdf.add_page()
    pdf.set_font(_fonts.FAMILY, "", 10)
    pdf.cell(text=OUTSIDE_BIG5_ITEM)
    fallback = pdf.fonts[_fonts.FALLBACK]
    used = {codepoint for glyph, _ in fallback.subset.items() if glyph for codepoint in glyph.unicode}  # type: ignore[union-attr]
    assert 0x2000B in used
    assert _fonts.FALLBACK not in _common.new_pdf(["鑫龘"], title="t", page_format="A4").fonts


def test_importing_the_package_loads_no_pdf_library() -> None:
    code = (
        "import sys, chalicelib.documents.pdf\n"
        "heavy = [m for m in ('fpdf', 'fontTools', 'segno') if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[3])  # noqa: S603 - fixed argv


def test_qr_bytes_follow_the_encoding_flag() -> None:
    """A Big5-flagged payload (中文編碼參數 0) is put in the symbol as Big5 bytes, not UTF-8."""
    import segno

    from chalicelib.documents.codes import ItemEncoding
    from chalicelib.documents.pdf import _common

    pair = qr_pair(
        QrInput(
            invoice_number="AB12345678",
            invoice_date=date(2024, 11, 5),
            random_number="1234",
            sales_amount=Decimal(100),
            total_amount=Decimal(105),
            seller_ubn="24634102",
            items=(QrItem("乾電池", Decimal(1), Decimal(105)),),
            encoding=ItemEncoding.BIG5,
        ),
        key_hex=AES_KEY,
    )
    left, right = _common.qr_symbols(pair.left, pair.right)
    expected = segno.make_qr(
        pair.left_bytes(), mode="byte", error="L", boost_error=False, version=left.version, mask=_common.QR_MASK
    )
    assert left.matrix == expected.matrix
    assert left.version == right.version  # same size on paper
    assert left.mask == right.mask == _common.QR_MASK
