"""An A4 allowance notice (營業人銷貨退回、進貨退出或折讓證明單, seller-issued since 2025).

Shows what the G0401 carries: the parties, one row per line with its original invoice, the
tax-exclusive amount and the line's integer tax, and the totals. Reuses the invoice layouts' cached
fonts, so it costs no font parsing per document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from chalicelib.documents.pdf import _common
from chalicelib.documents.pdf._fonts import FAMILY

if TYPE_CHECKING:
    from fpdf import FPDF

PAGE_HEIGHT: Final = 297.0
MARGIN: Final = 15.0
BOTTOM: Final = PAGE_HEIGHT - 20.0
ROW: Final = 6.0
HEADER_HEIGHT: Final = 10.0  # the table's titles: zh-TW line over English line
RECEIPT_HEIGHT: Final = 30.0  # room for a signature or a company stamp (統一發票專用章 is 4-5 cm wide)
# Original invoice, description, quantity, unit price, amount, tax, tax type (sum = 180 mm).
COLUMNS: Final = (
    ("原發票號碼 Invoice", 28.0, "L"),
    ("品名 Description", 58.0, "L"),
    ("數量 Qty", 16.0, "R"),
    ("單價(未稅) Price", 24.0, "R"),
    ("金額(未稅) Amount", 24.0, "R"),
    ("稅額 Tax", 16.0, "R"),
    ("課稅別", 14.0, "C"),
)


@dataclass(frozen=True, slots=True)
class AllowanceDocumentLine:
    original_invoice_number: str
    original_invoice_date: date
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    tax: int
    tax_type: str


@dataclass(frozen=True, slots=True)
class AllowanceDocument:
    allowance_number: str
    allowance_date: date
    seller_ubn: str
    seller_name: str
    seller_address: str
    buyer_ubn: str | None
    buyer_name: str | None
    lines: tuple[AllowanceDocumentLine, ...]
    tax_amount: int
    total_amount: int  # tax-exclusive
    cancelled: bool = False


def _header(pdf: FPDF, doc: AllowanceDocument) -> float:
    pdf.set_font(FAMILY, "B", 15)
    pdf.set_xy(MARGIN, MARGIN)
    pdf.cell(w=180, h=8, text="折讓證明單 Allowance Notice", align="C")
    pdf.set_font(FAMILY, "", 10)
    rows = [
        ("折讓單號碼 No.", doc.allowance_number + ("（已作廢 CANCELLED）" if doc.cancelled else "")),
        ("折讓日期 Date", doc.allowance_date.isoformat()),
        ("賣方 Seller", f"{doc.seller_name}（{doc.seller_ubn}）"),
        ("賣方地址 Address", doc.seller_address),
        ("買方 Buyer", f"{doc.buyer_name or ''}（{doc.buyer_ubn}）" if doc.buyer_ubn else doc.buyer_name or "消費者"),
    ]
    y = MARGIN + 12
    for label, value in rows:
        pdf.set_xy(MARGIN, y)
        pdf.set_text_color(90)
        pdf.cell(w=34, h=6, text=label)
        pdf.set_text_color(0)
        pdf.cell(w=146, h=6, text=_common.fit(pdf, value, 144))
        y += 6
    return y + 4


def _table_header(pdf: FPDF, y: float) -> float:
    # Two lines per title, zh-TW over English: "金額(未稅) Amount" on one line is wider than its
    # 24 mm column and was clipped; each language alone fits.
    pdf.set_font(FAMILY, "B", 8)
    pdf.set_fill_color(230)
    x = MARGIN
    for title, width, _align in COLUMNS:
        zh, _, en = title.partition(" ")
        pdf.set_xy(x, y)
        pdf.cell(w=width, h=HEADER_HEIGHT, text="", border=1, fill=True)
        pdf.set_xy(x, y + 1)
        pdf.cell(w=width, h=HEADER_HEIGHT / 2 - 1, text=zh, align="C")
        pdf.set_xy(x, y + HEADER_HEIGHT / 2)
        pdf.cell(w=width, h=HEADER_HEIGHT / 2 - 1, text=en, align="C")
        x += width
    pdf.set_font(FAMILY, "", 8.5)
    return y + HEADER_HEIGHT


def _receipt(pdf: FPDF, y: float) -> float:
    """The buyer's 簽收 (acknowledgement) area, as on the paper 折讓證明單: the buyer signs or
    stamps the notice it received, and the seller keeps that copy as its evidence of the
    allowance. Printed on every notice, B2C too: a consumer may sign it just the same."""
    pdf.set_font(FAMILY, "B", 10)
    pdf.set_xy(MARGIN + 90, y)
    pdf.cell(w=90, h=ROW, text="買方簽收 Received by the buyer")
    pdf.rect(MARGIN + 90, y + ROW, 90, RECEIPT_HEIGHT)
    pdf.set_font(FAMILY, "", 8.5)
    pdf.set_text_color(90)
    pdf.set_xy(MARGIN + 92, y + ROW + 1)
    pdf.cell(w=86, h=5, text="簽名或蓋章 Signature or company stamp")
    pdf.set_xy(MARGIN + 92, y + ROW + RECEIPT_HEIGHT - 6)
    pdf.cell(w=86, h=5, text="簽收日期 Date received：    年    月    日")
    pdf.set_text_color(0)
    return y + ROW + RECEIPT_HEIGHT


def _row(pdf: FPDF, line: AllowanceDocumentLine, y: float) -> None:
    cells = (
        line.original_invoice_number,
        line.description,
        _common.plain(line.quantity),
        _common.money(line.unit_price),
        _common.money(line.amount),
        _common.money(Decimal(line.tax)),
        _common.tax_label(line.tax_type),
    )
    x = MARGIN
    for text, (_title, width, align) in zip(cells, COLUMNS, strict=True):
        pdf.set_xy(x, y)
        pdf.cell(w=width, h=ROW, text=_common.fit(pdf, text, width - 2), border=1, align=align)
        x += width


def render_allowance(doc: AllowanceDocument) -> bytes:
    """``doc`` as an A4 PDF (rows flow onto further pages, the table header repeated)."""
    texts = [doc.seller_name, doc.seller_address, doc.buyer_name]
    texts += [line.description for line in doc.lines]
    pdf = _common.new_pdf(texts, title=f"折讓證明單 {doc.allowance_number}", page_format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.add_page()
    y = _table_header(pdf, _header(pdf, doc))
    for line in doc.lines:
        if y + ROW > BOTTOM:
            pdf.add_page()
            y = _table_header(pdf, MARGIN)
        _row(pdf, line, y)
        y += ROW
    if y + 5 * ROW + RECEIPT_HEIGHT > BOTTOM:  # totals and the receipt area stay on one page
        pdf.add_page()
        y = MARGIN
    pdf.set_font(FAMILY, "", 10)
    totals = (
        ("折讓金額(未稅) Amount", doc.total_amount),
        ("營業稅額 Tax", doc.tax_amount),
        ("合計 Total", doc.total_amount + doc.tax_amount),
    )
    for label, value in totals:
        y += ROW
        pdf.set_xy(MARGIN + 100, y)
        pdf.cell(w=50, h=ROW, text=label, align="R")
        pdf.cell(w=30, h=ROW, text=_common.money(Decimal(value)), align="R")
    _receipt(pdf, y + 2 * ROW)
    return _common.finish(pdf)
