"""The filed business-tax return (營業人銷售額與稅額申報書) as an A4 PDF, from its JSON document.

Lists every box the platform computed with its code and both labels, the payment reference and
the statements about what the platform could not compute; the JSON beside it is the source.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, cast

from chalicelib.documents.pdf import _common
from chalicelib.documents.pdf._fonts import FAMILY
from chalicelib.domain.period import TAIWAN_TZ

if TYPE_CHECKING:
    from fpdf import FPDF
    from fpdf.util import Padding

MARGIN: Final = 15.0
BOTTOM: Final = 277.0
ROW: Final = 6.0
LABEL_WIDTH: Final = 136.0
LABEL_LINE: Final = 4.0  # one wrapped line of a label at 8 pt
LABEL_PAD: Final = 1.0  # above and below the label's lines, so a one-line row stays ROW high


def render_tax_return(document: Mapping[str, Any], merchant_name: str) -> bytes:
    lines = list(document["lines"])
    statements = list(document.get("statements") or [])
    texts = [merchant_name, document.get("correction_reason")]
    texts += [line["label_zh"] for line in lines] + [line["label"] for line in lines]
    texts += [s["message_zh"] for s in statements] + [s["message"] for s in statements]
    pdf = _common.new_pdf(texts, title=f"{document['form']} {document['ubn']} {document['period']}", page_format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 14)
    pdf.set_xy(MARGIN, MARGIN)
    pdf.cell(w=180, h=8, text=f"營業人銷售額與稅額申報書（{document['form']}）", align="C")
    pdf.set_font(FAMILY, "", 9)
    pdf.set_xy(MARGIN, MARGIN + 8)
    pdf.cell(w=180, h=6, text=f"Business tax return (form {document['form']})", align="C")
    header = [
        ("營業人 Merchant", f"{merchant_name}（{document['ubn']}）"),
        ("所屬期別 Period", f"{document['period_label_zh']}（{document['period']}）"),
        (
            "版本 Version",
            str(document["version"])
            + (f"：{document['correction_reason']}" if document.get("correction_reason") else ""),
        ),
        ("申報時間 Filed", f"{_taiwan_time(str(document['filed_at']))}  {document['filed_by']}"),
        ("申報期限 Due by", str(document["due_by"])),
        ("繳款參考 Payment ref.", str(document["payment_reference"])),
    ]
    y = MARGIN + 18
    for label, value in header:
        pdf.set_xy(MARGIN, y)
        pdf.set_text_color(90)
        pdf.cell(w=40, h=ROW, text=label)
        pdf.set_text_color(0)
        pdf.cell(w=140, h=ROW, text=value)
        y += ROW
    y += 4
    pdf.set_font(FAMILY, "B", 8.5)
    pdf.set_fill_color(230)
    for text, width, align in (("代號", 14.0, "C"), ("項目 Item", 136.0, "L"), ("金額 NT$", 30.0, "R")):
        pdf.set_xy(MARGIN + {"代號": 0.0, "項目 Item": 14.0, "金額 NT$": 150.0}[text], y)
        pdf.cell(w=width, h=7, text=text, border=1, align=align, fill=True)
    y += 7
    pdf.set_font(FAMILY, "", 8)
    for line in lines:
        label = f"{line['label_zh']}  {line['label']}"
        height = _label_height(pdf, label)
        if y + height > BOTTOM:
            pdf.add_page()
            y = MARGIN
        pdf.set_xy(MARGIN, y)
        pdf.cell(w=14, h=height, text=str(line["code"]), border=1, align="C")
        # The label wraps inside its box rather than being cut: an accountant checks every box
        # against the paper form by its words, and a "…" hides the words that tell two boxes apart.
        pdf.rect(MARGIN + 14, y, LABEL_WIDTH, height)
        pdf.set_xy(MARGIN + 14, y + LABEL_PAD)
        pdf.multi_cell(w=LABEL_WIDTH, h=LABEL_LINE, text=label, align="L", padding=_label_padding())
        pdf.set_xy(MARGIN + 14 + LABEL_WIDTH, y)
        pdf.cell(w=30, h=height, text=_common.money(Decimal(int(line["value"]))), border=1, align="R")
        y += height
    for statement in statements:
        y += 3
        if y + 4 * ROW > BOTTOM:
            pdf.add_page()
            y = MARGIN
        pdf.set_xy(MARGIN, y)
        pdf.set_font(FAMILY, "", 8.5)
        pdf.multi_cell(w=180, h=4.5, text=f"※ {statement['message_zh']}\n{statement['message']}", align="L")
        y = pdf.get_y()
    return _common.finish(pdf)


def _label_padding() -> Padding:
    from fpdf.util import Padding

    return Padding(top=0, right=1, bottom=0, left=1)


def _label_height(pdf: FPDF, label: str) -> float:
    """The row height that shows ``label`` whole: one ROW, or more lines when it wraps."""
    if pdf.get_string_width(label) <= LABEL_WIDTH - 2:
        return ROW
    wrapped = pdf.multi_cell(
        w=LABEL_WIDTH, h=LABEL_LINE, text=label, align="L", dry_run=True, output="LINES", padding=_label_padding()
    )
    return max(ROW, len(cast("list[str]", wrapped)) * LABEL_LINE + 2 * LABEL_PAD)


def _taiwan_time(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(TAIWAN_TZ).strftime("%Y-%m-%d %H:%M (UTC+8)")
