"""電子發票證明聯: the 5.7 cm thermal-roll proof (einvoice-domain.md §6.1).

Page 57 x 90 mm, content in the 48 mm a 58 mm printer prints (384 dots at 203 dpi), centred.
Top to bottom: seller, title, period, number, date/time (+ 格式 25), random code and total,
seller/buyer UBNs, Code 39, then the two QR codes side by side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from chalicelib.documents.pdf import _common
from chalicelib.documents.pdf._fonts import FAMILY
from chalicelib.documents.pdf.model import InvoiceDocument

if TYPE_CHECKING:
    from fpdf import FPDF

PAGE_WIDTH: Final = 57.0
PAGE_HEIGHT: Final = 90.0
PRINT_WIDTH: Final = 48.0
LEFT: Final = (PAGE_WIDTH - PRINT_WIDTH) / 2

# QR geometry (codes.py derives the payload limit from the same numbers): two 20 mm symbols,
# each with a 2 mm quiet zone (spec v1.9: >= 0.2 cm), zones not shared: 2+20+4+20+2 = 48 mm.
QR_SIZE: Final = 20.0
QR_QUIET: Final = 2.0
BARCODE_HEIGHT: Final = 6.0

# Code 39 geometry for a 203-dpi (8 dots/mm) thermal head. A narrow element of 1.15 dots (what
# stretching the symbol over the 48 mm gave) prints as 1 or 2 dots at random, and zbar could not
# read such a print below 250 dpi. So every element is a whole number of dots, and the symbol
# starts on a dot boundary: narrow (X) = 1 dot = 0.125 mm, wide = 3 dots (ratio 3:1, inside
# ISO/IEC 16388's 2.0-3.0, and >= 2.2 as it asks for X < 0.5 mm). 21 characters (19 + the *
# start/stop) x 16 X - 1 = 335 dots = 41.9 mm, leaving (384 - 335) / 2 = 24 dots (3 mm) of quiet
# zone each side inside the printed 48 mm: ISO/IEC 16388 asks for at least 10 X (1.25 mm). The
# barcode spec (v1.8/v1.9 as quoted in einvoice-domain.md §6) fixes the content, not the module.
PRINTER_DPI: Final = 203
PRINTER_DOT: Final = 25.4 / PRINTER_DPI
CODE39_NARROW_DOTS: Final = 1
CODE39_MIN_QUIET_MODULES: Final = 10

# Buyer input format code printed after the date when the buyer has a UBN (§6.1, §7).
B2B_FORMAT: Final = "格式 25"


def _fitted_size(pdf: FPDF, text: str, family: str, style: str, size: float, width: float, floor: float) -> float:
    """The largest font size <= ``size`` (>= ``floor``) at which ``text`` fits in ``width`` mm."""
    pdf.set_font(family, style, size)
    while size > floor and pdf.get_string_width(text) > width:
        size -= 0.5
        pdf.set_font(family, style, size)
    return size


def _centred(pdf: FPDF, y: float, height: float, text: str, *, style: str, size: float) -> None:
    _fitted_size(pdf, text, FAMILY, style, size, PRINT_WIDTH, floor=6)
    pdf.set_xy(LEFT, y)
    pdf.cell(w=PRINT_WIDTH, h=height, text=text, align="C")


def _split_line(pdf: FPDF, y: float, left: str, right: str, size: float = 8.5) -> None:
    """One line with ``left`` flush left and ``right`` flush right, as on printed proofs."""
    pdf.set_font(FAMILY, "", size)
    pdf.set_xy(LEFT, y)
    pdf.cell(w=PRINT_WIDTH, h=3.8, text=left, align="L")
    if right:
        pdf.set_xy(LEFT, y)
        pdf.cell(w=PRINT_WIDTH, h=3.8, text=right, align="R")


def _seller(pdf: FPDF, name: str) -> None:
    """Seller name in an 8 mm band: one line at up to 11 pt, else two lines at a size that fits."""
    size = _fitted_size(pdf, name, FAMILY, "B", 11, PRINT_WIDTH, floor=9)
    if pdf.get_string_width(name) <= PRINT_WIDTH:
        pdf.set_xy(LEFT, 3.5)
        pdf.cell(w=PRINT_WIDTH, h=6, text=name, align="C")
        return
    size = _fitted_size(pdf, name, FAMILY, "B", 9, 2 * PRINT_WIDTH * 0.95, floor=6)
    pdf.set_xy(LEFT, 2.5)
    pdf.multi_cell(w=PRINT_WIDTH, h=size * 0.3528 * 1.15, text=name, align="C", max_line_height=4, new_x="LMARGIN")


def _box(pdf: FPDF, width: float, top: float) -> tuple[float, float]:
    """A centred box from ``top`` to the page's bottom margin; its left edge and height."""
    height = PAGE_HEIGHT - top - 1.5
    x = (PAGE_WIDTH - width) / 2
    pdf.set_draw_color(0)
    pdf.set_line_width(0.7)
    pdf.rect(x, top, width, height)
    return x, height


def _void_stamp(pdf: FPDF, mark: str, top: float) -> None:
    """A boxed 作廢/註銷 in the blank band under the codes.

    Not over the text: a stamp across the period and number made both unreadable (tried), and
    the proof must still show which invoice was cancelled. Not over the codes either.
    """
    width = 30.0
    x, height = _box(pdf, width, top)
    pdf.set_font(FAMILY, "B", 20)
    pdf.set_xy(x, top)
    pdf.cell(w=width, h=height, text=mark, align="C")


def _prize_stamp(pdf: FPDF, prize: str, top: float) -> None:
    """A boxed 中獎 with the prize under it, in the band under the codes (as the void stamp)."""
    width = 40.0
    x, height = _box(pdf, width, top)
    pdf.set_font(FAMILY, "B", 14)
    pdf.set_xy(x, top + 0.3)
    pdf.cell(w=width, h=height * 0.55, text="中獎", align="C")
    _fitted_size(pdf, prize, FAMILY, "B", 9, width - 2, floor=6)
    pdf.set_xy(x, top + height * 0.55)
    pdf.cell(w=width, h=height * 0.4, text=prize, align="C")


def code39_placement(content: str) -> tuple[float, float]:
    """``(x, width)`` in mm of the Code 39 of ``content``: centred, on whole printer dots."""
    dots = _common.code39_modules(content) * CODE39_NARROW_DOTS
    start = round((PAGE_WIDTH / PRINTER_DOT - dots) / 2)
    quiet = (PRINT_WIDTH / PRINTER_DOT - dots) / 2
    if quiet < CODE39_MIN_QUIET_MODULES * CODE39_NARROW_DOTS:
        raise ValueError(f"Code 39 of {len(content)} characters does not fit the proof with its quiet zones")
    return start * PRINTER_DOT, dots * PRINTER_DOT


def render_proof(doc: InvoiceDocument) -> bytes:
    """The 電子發票證明聯 of ``doc`` as PDF bytes (57 x 90 mm)."""
    mark = _common.status_mark(doc)
    left_qr, right_qr = _common.qr_symbols(doc.qr_left, doc.qr_right)
    pdf = _common.new_pdf(
        (doc.seller_name, doc.seller_address, doc.remark),
        title=f"電子發票證明聯 {doc.invoice_number}",
        page_format=(PAGE_WIDTH, PAGE_HEIGHT),
    )
    pdf.set_margins(LEFT, 3, LEFT)
    pdf.add_page()
    pdf.set_text_color(0)

    _seller(pdf, doc.seller_name)
    title = "電子發票證明聯" + ("補印" if doc.reprint else "")
    _centred(pdf, 11.0, 6.5, title, style="B", size=15)
    _centred(pdf, 17.5, 7.5, doc.period_label, style="B", size=19)
    _centred(pdf, 25.0, 7.5, _common.printed_number(doc), style="B", size=19)

    y = 33.5
    stamp = f"{doc.invoice_date:%Y-%m-%d} {doc.invoice_time:%H:%M:%S}"
    _split_line(pdf, y, stamp, B2B_FORMAT if doc.buyer_ubn else "")
    _split_line(pdf, y + 3.8, f"隨機碼 {doc.random_number}", f"總計 {_common.money(doc.total_amount, grouped=False)}")
    _split_line(pdf, y + 7.6, f"賣方 {doc.seller_ubn}", f"買方 {doc.buyer_ubn}" if doc.buyer_ubn else "")

    barcode_top = y + 12.2
    barcode_x, barcode_width = code39_placement(doc.barcode)
    _common.draw_code39(pdf, doc.barcode, barcode_x, barcode_top, barcode_width, BARCODE_HEIGHT)

    qr_top = barcode_top + BARCODE_HEIGHT + QR_QUIET + 0.5
    _common.draw_qr(pdf, left_qr, LEFT + QR_QUIET, qr_top, QR_SIZE)
    _common.draw_qr(pdf, right_qr, PAGE_WIDTH - LEFT - QR_QUIET - QR_SIZE, qr_top, QR_SIZE)

    pdf.set_font(FAMILY, "", 6.5)
    pdf.set_xy(LEFT, qr_top + QR_SIZE + QR_QUIET)
    # A short mark only: the proof has no room for amounts, the A4 and the allowance carry them.
    allowed = f"已折讓 {doc.allowance_count} 筆" if doc.allowance_count > 0 else None
    for note in (allowed, doc.seller_address, doc.remark):
        if note:
            pdf.set_x(LEFT)
            pdf.multi_cell(w=PRINT_WIDTH, h=2.8, text=note, align="C", new_x="LMARGIN", new_y="NEXT")
    if mark:
        _void_stamp(pdf, mark, max(pdf.get_y() + 0.8, PAGE_HEIGHT - 10.5))
    elif doc.prize_mark:
        _prize_stamp(pdf, doc.prize_mark, max(pdf.get_y() + 0.8, PAGE_HEIGHT - 10.5))
    return _common.finish(pdf)
