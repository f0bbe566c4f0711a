"""An A4 invoice: header, item table (flowing over pages, header row repeated), totals, codes.

The proof's Code 39 and QR codes sit in the top-right corner of the first page, at the proof's
sizes, so the A4 can be scanned like the thermal proof.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, cast

from chalicelib.documents.pdf import _common
from chalicelib.documents.pdf._fonts import FAMILY
from chalicelib.documents.pdf.model import DocumentItem, InvoiceDocument

if TYPE_CHECKING:
    import segno
    from fpdf import FPDF
    from fpdf.util import Padding

PAGE_WIDTH: Final = 210.0
PAGE_HEIGHT: Final = 297.0
MARGIN: Final = 15.0
CONTENT_WIDTH: Final = PAGE_WIDTH - 2 * MARGIN
BOTTOM: Final = PAGE_HEIGHT - 18.0  # the footer (page x / y) lives below this line

# Item table: description, quantity, unit, unit price, amount, tax type (sum = CONTENT_WIDTH).
COLUMNS: Final = (
    ("品名 Description", 78.0, "L"),
    ("數量 Qty", 18.0, "R"),
    ("單位 Unit", 16.0, "C"),
    ("單價 Unit price", 24.0, "R"),
    ("金額 Amount", 26.0, "R"),
    ("課稅別 Tax", 18.0, "C"),
)
ROW_LINE: Final = 4.6  # mm per text line in the table at 9 pt
TEXT_SIZE: Final = 9.0
PADDING: Final = 1.2  # mm left and right inside each table cell

QR_SIZE: Final = 22.0
QR_GAP: Final = 4.0  # two 2 mm quiet zones (spec v1.9) that do not overlap
CODES_WIDTH: Final = 2 * QR_SIZE + QR_GAP


def _cell_padding() -> Padding:
    from fpdf.util import Padding

    return Padding(top=0, right=PADDING, bottom=0, left=PADDING)


class _A4:
    def __init__(self, doc: InvoiceDocument, pdf: FPDF) -> None:
        self.doc = doc
        self.pdf = pdf

    # --- page furniture -----------------------------------------------------------------------

    def footer(self) -> None:
        pdf = self.pdf
        pdf.set_font(FAMILY, "", 8)
        pdf.set_xy(MARGIN, PAGE_HEIGHT - 12)
        number = _common.printed_number(self.doc)
        pdf.cell(w=CONTENT_WIDTH / 2, h=4, text=f"電子發票 {number}", align="L")
        # {nb} is fpdf2's total-pages alias, replaced at output.
        pdf.cell(w=CONTENT_WIDTH / 2, h=4, text=f"第 {pdf.page_no()} / {{nb}} 頁 Page", align="R")

    def new_page(self) -> None:
        if self.pdf.page:
            self.footer()
        self.pdf.add_page()
        mark = _common.status_mark(self.doc)
        if mark:
            self.stamp(mark)

    def stamp(self, mark: str) -> None:
        """A large diagonal 作廢/註銷 on every page, drawn first so the content stays on top."""
        pdf = self.pdf
        english = _common.STATUS_ENGLISH[self.doc.status].upper()
        with pdf.rotation(angle=30, x=PAGE_WIDTH / 2, y=PAGE_HEIGHT / 2):
            pdf.set_text_color(200, 30, 30)
            pdf.set_draw_color(200, 30, 30)
            pdf.set_line_width(1.5)
            pdf.rect(PAGE_WIDTH / 2 - 60, PAGE_HEIGHT / 2 - 24, 120, 48)
            pdf.set_font(FAMILY, "B", 72)
            pdf.set_xy(PAGE_WIDTH / 2 - 60, PAGE_HEIGHT / 2 - 24)
            pdf.cell(w=120, h=32, text=mark, align="C")
            pdf.set_font(FAMILY, "B", 20)
            pdf.set_xy(PAGE_WIDTH / 2 - 60, PAGE_HEIGHT / 2 + 8)
            pdf.cell(w=120, h=12, text=english, align="C")
        pdf.set_text_color(0)
        pdf.set_draw_color(0)

    # --- first page ---------------------------------------------------------------------------

    def header(self, left_qr: segno.QRCode, right_qr: segno.QRCode) -> float:
        """Title, invoice data, parties and the codes; returns the y where the table starts."""
        pdf, doc = self.pdf, self.doc
        text_width = CONTENT_WIDTH - CODES_WIDTH - 6

        pdf.set_xy(MARGIN, MARGIN)
        pdf.set_font(FAMILY, "B", 20)
        title = "電子發票" + ("（補印）" if doc.reprint else "")
        pdf.cell(w=text_width, h=9, text=title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, "", 10)
        pdf.cell(w=text_width, h=5, text="E-invoice", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

        rows = [
            ("發票號碼 Number", _common.printed_number(doc)),
            ("發票日期 Date", f"{doc.invoice_date:%Y-%m-%d} {doc.invoice_time:%H:%M:%S}"),
            ("期別 Period", doc.period_label),
            ("隨機碼 Random no.", doc.random_number),
        ]
        if doc.buyer_ubn:
            rows.append(("格式 Format", "25"))
        mark = _common.status_mark(doc)
        if mark:
            # Also in plain words: the diagonal stamp alone is easy to miss in a text search.
            rows.append(("狀態 Status", f"{mark} {_common.STATUS_ENGLISH[doc.status]}"))
        self.label_rows(rows, text_width)
        pdf.ln(3)

        party_rows = [
            ("賣方 Seller", doc.seller_name),
            ("統一編號 UBN", doc.seller_ubn),
            ("地址 Address", doc.seller_address),
        ]
        if doc.buyer_ubn or doc.buyer_name:
            party_rows += [("買方 Buyer", doc.buyer_name or ""), ("統一編號 UBN", doc.buyer_ubn or "")]
        self.label_rows(party_rows, text_width)
        text_bottom = pdf.get_y()

        # Codes in the top-right corner: Code 39 across both QR codes, QRs side by side below.
        x = PAGE_WIDTH - MARGIN - CODES_WIDTH
        y = MARGIN
        _common.draw_code39(pdf, doc.barcode, x, y, CODES_WIDTH, 7)
        pdf.set_font(FAMILY, "", 7)
        pdf.set_xy(x, y + 7.3)
        pdf.cell(w=CODES_WIDTH, h=3, text=doc.barcode, align="C")
        qr_top = y + 7 + 3 + 2 + 1  # barcode, its text, then the QR quiet zone
        _common.draw_qr(pdf, left_qr, x, qr_top, QR_SIZE)
        _common.draw_qr(pdf, right_qr, x + QR_SIZE + QR_GAP, qr_top, QR_SIZE)
        codes_bottom = qr_top + QR_SIZE + 2
        return max(text_bottom, codes_bottom) + 5

    def label_rows(self, rows: list[tuple[str, str]], width: float) -> None:
        pdf = self.pdf
        label_width = 34.0
        for label, value in rows:
            pdf.set_x(MARGIN)
            pdf.set_font(FAMILY, "", 8.5)
            pdf.set_text_color(90)
            pdf.cell(w=label_width, h=5, text=label)
            pdf.set_text_color(0)
            pdf.set_font(FAMILY, "", 10)
            pdf.multi_cell(w=width - label_width, h=5, text=value, align="L", new_x="LMARGIN", new_y="NEXT")

    # --- item table ---------------------------------------------------------------------------

    def table_header(self, y: float) -> float:
        pdf = self.pdf
        pdf.set_font(FAMILY, "B", 8.5)
        pdf.set_fill_color(230)
        pdf.set_draw_color(120)
        pdf.set_line_width(0.2)
        x = MARGIN
        for title, width, align in COLUMNS:
            pdf.set_xy(x, y)
            pdf.cell(w=width, h=7, text=title, border=1, align="C" if align == "L" else align, fill=True)
            x += width
        return y + 7

    def item_cells(self, item: DocumentItem) -> tuple[str, ...]:
        return (
            item.description,
            _common.plain(item.quantity),
            item.unit or "",
            _common.money(item.unit_price),
            _common.money(item.amount),
            _common.tax_label(item.tax_type),
        )

    def row_height(self, cells: tuple[str, ...]) -> float:
        pdf = self.pdf
        lines = 1
        for text, (_title, width, _align) in zip(cells, COLUMNS, strict=True):
            if pdf.get_string_width(text) > width - 2 * PADDING:  # only wrapping cells need a dry run
                wrapped = pdf.multi_cell(
                    w=width, h=ROW_LINE, text=text, align="L", dry_run=True, output="LINES", padding=_cell_padding()
                )
                lines = max(lines, len(cast("list[str]", wrapped)))
        return lines * ROW_LINE + 2 * PADDING

    def items(self, y: float) -> float:
        pdf = self.pdf
        y = self.table_header(y)
        pdf.set_font(FAMILY, "", TEXT_SIZE)
        for index, item in enumerate(self.doc.items):
            cells = self.item_cells(item)
            height = self.row_height(cells)
            if y + height > BOTTOM:
                self.new_page()
                y = self.table_header(MARGIN)
                pdf.set_font(FAMILY, "", TEXT_SIZE)
            if index % 2:
                pdf.set_fill_color(246)
                pdf.rect(MARGIN, y, CONTENT_WIDTH, height, style="F")
            x = MARGIN
            for text, (_title, width, align) in zip(cells, COLUMNS, strict=True):
                pdf.set_xy(x, y + PADDING)
                # align="L", not the default justify: justified CJK/Latin lines get stretched.
                pdf.multi_cell(w=width, h=ROW_LINE, text=text, align=align, padding=_cell_padding())
                x += width
            y += height
            pdf.set_draw_color(200)
            pdf.line(MARGIN, y, MARGIN + CONTENT_WIDTH, y)
        return y

    # --- totals and notes ---------------------------------------------------------------------

    def totals(self, y: float) -> float:
        pdf, doc = self.pdf, self.doc
        rows = [
            ("應稅銷售額 Taxable sales", doc.sales_amount),
            ("零稅率銷售額 Zero-rated sales", doc.zero_tax_sales_amount),
            ("免稅銷售額 Tax-exempt sales", doc.free_tax_sales_amount),
            ("營業稅 Business tax", doc.tax_amount),
            ("總計 Total (NT$)", doc.total_amount),
        ]
        needed = len(rows) * 6 + 4
        if y + needed > BOTTOM:
            self.new_page()
            y = MARGIN
        label_x = PAGE_WIDTH - MARGIN - 100
        y += 3
        for index, (label, amount) in enumerate(rows):
            last = index == len(rows) - 1
            pdf.set_font(FAMILY, "B" if last else "", 11 if last else 9.5)
            if last:
                pdf.set_draw_color(0)
                pdf.line(label_x, y, PAGE_WIDTH - MARGIN, y)
            pdf.set_xy(label_x, y)
            pdf.cell(w=64, h=6, text=label, align="L")
            pdf.cell(w=36, h=6, text=_common.money(amount), align="R")
            y += 6
        return y

    def notes(self, y: float) -> float:
        pdf, doc = self.pdf, self.doc
        notes: list[str] = list(_common.allowance_lines(doc) or ())
        if doc.carrier_type or doc.carrier_id:
            notes.append(f"載具 Carrier：{doc.carrier_type or ''} {doc.carrier_id or ''}".rstrip())
        if doc.donation_code:
            notes.append(f"捐贈碼 Donated to：{doc.donation_code}（發票號碼已遮蔽 number masked）")
        notes.append(
            "已列印電子發票證明聯 A paper proof was printed"
            if doc.print_mark
            else "未列印電子發票證明聯 No paper proof printed"
        )
        notes.append(f"課稅別 Tax type：{_common.tax_label(doc.tax_type)}")
        if doc.remark:
            notes.append(f"備註 Remark：{doc.remark}")
        pdf.set_font(FAMILY, "", 9)
        y += 4
        for note in notes:
            lines = pdf.multi_cell(w=CONTENT_WIDTH, h=5, text=note, align="L", dry_run=True, output="LINES")
            height = len(cast("list[str]", lines)) * 5
            if y + height > BOTTOM:
                self.new_page()
                y = MARGIN
                pdf.set_font(FAMILY, "", 9)
            pdf.set_xy(MARGIN, y)
            pdf.multi_cell(w=CONTENT_WIDTH, h=5, text=note, align="L")
            y += height
        return y


def render_a4(doc: InvoiceDocument) -> bytes:
    """``doc`` as an A4 PDF invoice (one or more pages)."""
    _common.status_mark(doc)  # reject an unknown status before any work
    left_qr, right_qr = _common.qr_symbols(doc.qr_left, doc.qr_right)
    texts = [doc.seller_name, doc.seller_address, doc.buyer_name, doc.remark, doc.carrier_type, doc.carrier_id]
    texts += [text for item in doc.items for text in (item.description, item.unit)]
    pdf = _common.new_pdf(texts, title=f"電子發票 {doc.invoice_number}", page_format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    layout = _A4(doc, pdf)
    layout.new_page()
    y = layout.header(left_qr, right_qr)
    y = layout.items(y)
    y = layout.totals(y)
    layout.notes(y)
    layout.footer()
    return _common.finish(pdf)
