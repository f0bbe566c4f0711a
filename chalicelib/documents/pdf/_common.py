"""Pieces both layouts share: document set-up with the cached fonts, codes, number formatting."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from chalicelib.documents.codes import display_number, masked_number
from chalicelib.documents.pdf import _fonts
from chalicelib.documents.pdf.model import InvoiceDocument

if TYPE_CHECKING:
    import segno
    from fpdf import FPDF

STATUS_MARKS: Final = {"issued": None, "cancelled": "作廢", "voided": "註銷"}
TAX_TYPE_LABELS: Final = {"1": "應稅", "2": "零稅率", "3": "免稅", "4": "特種稅額", "9": "混合"}
QR_ERROR: Final = "L"  # what codes.qr_pair sized the payloads for (version <= 9 at level L)


def status_mark(doc: InvoiceDocument) -> str | None:
    try:
        return STATUS_MARKS[doc.status]
    except KeyError:
        raise ValueError(f"unknown invoice status {doc.status!r}; expected one of {sorted(STATUS_MARKS)}") from None


def printed_number(doc: InvoiceDocument) -> str:
    """``AB-12345678``; a donated invoice hides its last three digits (``AB-12345***``, §5)."""
    if doc.donation_code:
        return masked_number(doc.invoice_number)
    return display_number(doc.invoice_number)


def plain(value: Decimal) -> str:
    """A quantity or price without exponent or trailing zeros: 2.500 -> 2.5, 1E+2 -> 100."""
    if value.is_zero():
        return "0"
    text = format(value.normalize(), "f")
    return text


def money(value: Decimal, *, grouped: bool = True) -> str:
    """Whole NT$ as ``1,234`` (decimals kept only when the stored amount has them)."""
    text = plain(value)
    if not grouped:
        return text
    whole, _, fraction = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    grouped_whole = f"{int(whole.lstrip('-')):,}"
    return sign + grouped_whole + (f".{fraction}" if fraction else "")


def allowance_lines(doc: InvoiceDocument) -> tuple[str, str] | None:
    """The A4's allowance note, zh-TW and English; None when no allowance is in force."""
    if doc.allowance_count <= 0:
        return None
    count = doc.allowance_count
    total = f"NT${money(doc.allowance_total or Decimal(0))}"
    remaining = f"NT${money(doc.allowance_remaining or Decimal(0))}"
    zh = f"折讓 Allowances：已開立折讓 {count} 筆，折讓金額 {total}（含稅），剩餘可折讓 {remaining}"
    plural = "allowance" if count == 1 else "allowances"
    return zh, f"{count} {plural}, {total} incl. tax; {remaining} remaining"


def tax_label(tax_type: str) -> str:
    return TAX_TYPE_LABELS.get(tax_type, tax_type)


def new_pdf(texts: Iterable[str | None], *, title: str, page_format: str | tuple[float, float]) -> FPDF:
    """An ``FPDF`` in mm with the cached regular and bold fonts, plus the fallback when needed.

    ``texts`` are the free-text values the layout prints (names, address, items, remark): the
    fallback font is attached only when one of them has a character the main font lacks, so the
    usual document neither parses nor embeds it.
    """
    from fpdf import FPDF

    pdf = FPDF(unit="mm", format=page_format)
    pdf.set_title(title)
    pdf.set_creator("einvoice-platform")
    pdf.set_auto_page_break(auto=False)  # both layouts place everything themselves
    _fonts.attach_font(pdf, _fonts.REGULAR)
    _fonts.attach_font(pdf, _fonts.BOLD)
    cmap = _fonts.CACHE.template(_fonts.REGULAR).cmap
    needs_fallback = any(ord(ch) not in cmap for text in texts if text for ch in text if ch.isprintable())
    if needs_fallback and _fonts.fallback_available():
        _fonts.attach_font(pdf, _fonts.FALLBACK)
        # exact_match=False: the supplement has no bold, and a regular glyph beats an empty box.
        pdf.set_fallback_fonts([_fonts.FALLBACK], exact_match=False)
    return pdf


def finish(pdf: FPDF) -> bytes:
    # Our layouts draw their footers themselves (FPDF.footer stays a no-op), so every glyph is
    # placed by now; the {nb} page-count alias, filled in by output(), uses ASCII digits that
    # every document picks up front (_fonts._ALWAYS_PICKED).
    _fonts.prepare_output(pdf)
    return bytes(pdf.output())


@functools.lru_cache(maxsize=64)
def _codec_of(left: str) -> str:
    # The left QR says how item names are encoded (中文編碼參數, §6.3): the 5th ":"-field after the
    # 77 fixed characters (":merchant area:written:total:flag"). "0" is Big5, "1" UTF-8. The bytes
    # in the symbol must be the ones the flag announces, so both payloads use that codec.
    fields = left[77:].split(":")
    return "big5" if len(fields) > 4 and fields[4] == "0" else "utf-8"


def qr_symbols(left: str, right: str) -> tuple[segno.QRCode, segno.QRCode]:
    """Both QR symbols at the same version, so they print at the same size *and* module size.

    Byte mode with explicit bytes: given a ``str``, segno would pick ISO-8859-1 when it can,
    changing the bytes a reader sees (see codes.qr_matrix_fits).
    """
    import segno

    codec = _codec_of(left)
    left_bytes, right_bytes = left.encode(codec), right.encode(codec)

    def make(data: bytes, version: int | None = None) -> segno.QRCode:
        return segno.make_qr(data, mode="byte", error=QR_ERROR, boost_error=False, version=version)

    # The left payload (77 fixed characters and more) is nearly always the longer one, so encode
    # the right one straight at the left's version: two encodings (~6-8 ms each, mostly segno
    # scoring the 8 masks) instead of three or four.
    left_qr = make(left_bytes)
    try:
        right_qr = make(right_bytes, int(left_qr.version))
    except segno.DataOverflowError:
        right_qr = make(right_bytes)
        left_qr = make(left_bytes, int(right_qr.version))
    return left_qr, right_qr


def draw_qr(pdf: FPDF, symbol: segno.QRCode, x: float, y: float, size: float) -> None:
    """Draw ``symbol`` (no quiet zone: callers leave it blank) as a ``size`` mm square of rectangles.

    Vector rectangles, one per horizontal run of dark modules: sharper than an embedded image at
    any printer resolution, and far cheaper than fpdf2 parsing segno's SVG.
    """
    matrix = symbol.matrix
    module = size / len(matrix)
    pdf.set_fill_color(0)
    for row_index, row in enumerate(matrix):
        top = y + row_index * module
        start = -1
        for col, dark in enumerate((*row, 0)):
            if dark and start < 0:
                start = col
            elif not dark and start >= 0:
                pdf.rect(x + start * module, top, (col - start) * module, module, style="F")
                start = -1


def draw_code39(pdf: FPDF, content: str, x: float, y: float, width: float, height: float) -> None:
    """Code 39 of ``content`` with its ``*`` start/stop characters, exactly ``width`` mm wide.

    fpdf2 draws wide bars 3x the narrow ones; a character is 6 narrow + 3 wide elements plus a
    narrow gap, i.e. 16 narrow units, and the last gap is not drawn.
    """
    text = f"*{content}*"
    narrow = width / (len(text) * 16 - 1)
    pdf.set_fill_color(0)
    pdf.code39(text, x, y, w=3 * narrow, h=height)
