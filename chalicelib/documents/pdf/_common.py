"""Pieces both layouts share: document set-up with the cached fonts, codes, number formatting."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from chalicelib.documents.codes import QR_MIN_VERSION, display_number, masked_number
from chalicelib.documents.pdf import _fonts
from chalicelib.documents.pdf.model import InvoiceDocument

if TYPE_CHECKING:
    import segno
    from fpdf import FPDF

STATUS_MARKS: Final = {"issued": None, "cancelled": "作廢", "voided": "註銷", "rejected": "退回"}
STATUS_ENGLISH: Final = {"cancelled": "Cancelled", "voided": "Voided", "rejected": "Rejected"}
TAX_TYPE_LABELS: Final = {"1": "應稅", "2": "零稅率", "3": "免稅", "4": "特種稅額", "9": "混合"}
QR_ERROR: Final = "L"  # what codes.qr_pair sized the payloads for (version 6 to 9 at level L)
# One data mask for every symbol instead of segno scoring all 8 (~5 ms a symbol). Readers take the
# mask from the symbol's format information, so any of the 8 decodes. Pattern 2 (columns where
# j % 3 == 0) had the flattest worst case on 1,000 symbols of random proofs: its ISO 18004 penalty
# score was at most 1.22x the best mask's (mean 1.09x); pattern 0, segno's most frequent pick,
# reached 1.39x. zbar read both codes of 120 random proofs at 150-300 dpi, as with segno's choice.
QR_MASK: Final = 2
_DARK_RUN: Final = re.compile(b"\x01+")  # segno's matrix rows: 0x1 dark, 0x0 light


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


def fit(pdf: FPDF, text: str, width: float) -> str:
    """One line per box: text too long for it is cut with an ellipsis (the XML/JSON has it whole)."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


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

    That version is at least :data:`~chalicelib.documents.codes.QR_MIN_VERSION` (6): the spec asks
    the left symbol for 「QR Code V6(含)以上版本」, and the right one shares its version.

    Byte mode with explicit bytes: given a ``str``, segno would pick ISO-8859-1 when it can,
    changing the bytes a reader sees (see codes.qr_matrix_fits).
    """
    import segno

    codec = _codec_of(left)
    left_bytes, right_bytes = left.encode(codec), right.encode(codec)

    def make(data: bytes, version: int | None = None) -> segno.QRCode:
        return segno.make_qr(data, mode="byte", error=QR_ERROR, boost_error=False, version=version, mask=QR_MASK)

    # The left payload (77 fixed characters and more) is nearly always the longer one, so encode
    # the right one straight at the left's version: two encodings (~1.3 ms each) instead of three.
    left_qr = make(left_bytes)
    if int(left_qr.version) < QR_MIN_VERSION:
        left_qr = make(left_bytes, QR_MIN_VERSION)
    try:
        right_qr = make(right_bytes, int(left_qr.version))
    except segno.DataOverflowError:
        right_qr = make(right_bytes)
        left_qr = make(left_bytes, int(right_qr.version))
    return left_qr, right_qr


def draw_qr(pdf: FPDF, symbol: segno.QRCode, x: float, y: float, size: float) -> None:
    """Draw ``symbol`` (no quiet zone: callers leave it blank) as a ``size`` mm square of rectangles.

    Vector rectangles, one per run of dark modules, sharper than an embedded image at any printer
    resolution. Written as one filled path in module units under a scaling matrix, so every corner
    falls exactly on the module grid, and runs repeated in the rows below merge into one taller
    rectangle. One content-stream write instead of ~500 ``rect()`` calls (~2.5 ms a symbol).
    """
    pdf._out(_qr_path(symbol.matrix, x * pdf.k, (pdf.h - y) * pdf.k, size * pdf.k))


def _qr_path(matrix: Sequence[bytes | bytearray], left: float, top: float, size: float) -> str:
    """PDF operators filling the dark modules of ``matrix``; ``left``/``top``/``size`` in points.

    Inside ``q``/``Q``: the fill colour and the matrix do not leak into fpdf2's graphics state.
    """
    module = size / len(matrix)
    ops = [f"q {module:.5f} 0 0 {-module:.5f} {left:.3f} {top:.3f} cm 0 g"]
    open_runs: dict[tuple[int, int], int] = {}  # (start, end) of a run -> the row it started in
    for row_index, row in enumerate((*matrix, b"")):
        runs = {match.span(): row_index for match in _DARK_RUN.finditer(bytes(row))}
        for span, first in open_runs.items():
            if span in runs:
                runs[span] = first  # the same run continues in this row
            else:
                ops.append(f"{span[0]} {first} {span[1] - span[0]} {row_index - first} re")
        open_runs = runs
    ops.append("f Q")
    return "\n".join(ops)


def code39_modules(content: str) -> int:
    """Width of the Code 39 of ``content`` (with its ``*`` start/stop) in narrow elements (X).

    fpdf2 draws wide bars 3x the narrow ones; a character is 6 narrow + 3 wide elements plus a
    narrow gap, i.e. 16 X, and the last gap is not drawn.
    """
    return (len(content) + 2) * 16 - 1


def draw_code39(pdf: FPDF, content: str, x: float, y: float, width: float, height: float) -> None:
    """Code 39 of ``content`` with its ``*`` start/stop characters, exactly ``width`` mm wide."""
    text = f"*{content}*"
    narrow = width / code39_modules(content)
    pdf.set_fill_color(0)
    pdf.code39(text, x, y, w=3 * narrow, h=height)
