"""The filed return and the allowance notice print every label whole: read back with pdftotext."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

from chalicelib.documents.pdf.allowance import (
    COLUMNS,
    MARGIN,
    AllowanceDocument,
    AllowanceDocumentLine,
    render_allowance,
)
from chalicelib.documents.pdf.tax_return import render_tax_return
from chalicelib.services.filing_views import LINES
from tests.unit.documents.test_pdf import _run, pdf_tools, text_of_plain  # noqa: F401 - pdf_tools checks poppler

MM = 72 / 25.4  # PDF points per millimetre

# Two of the longest boxes of the 401 form, in the form's own words (reference §7).
LONG_LABELS = (
    "進項：三聯式收銀機發票扣抵聯及電子發票 進貨及費用 金額",
    "Purchases on e-invoices received (format 25)",
    "Taxable sales: cash-register triplicate and e-invoices (format 35)",
)


def _squeezed(text: str) -> str:
    # A wrapped label comes back with a line break where it wrapped: compare without whitespace.
    return re.sub(r"\s+", "", text)


def _return_document() -> dict:
    return {
        "form": "401",
        "ubn": "12345675",
        "period": "11502",
        "period_label_zh": "115年1-2月",
        "version": 1,
        "correction_reason": None,
        "filed_at": "2026-03-10T10:00:00+08:00",
        "filed_by": "merchant:12345675",
        "due_by": "2026-03-16",
        "payment_reference": "1150212345675",
        "lines": [{"code": c, "label": en, "label_zh": zh, "value": 12_345} for c, en, zh in LINES],
        "statements": [],
    }


def _allowance() -> AllowanceDocument:
    line = AllowanceDocumentLine(
        original_invoice_number="AB12345678",
        original_invoice_date=date(2026, 2, 1),
        description="拿鐵咖啡",
        quantity=Decimal(2),
        unit_price=Decimal("62"),
        amount=Decimal("124"),
        tax=6,
        tax_type="1",
    )
    return AllowanceDocument(
        allowance_number="AB12345678-A1",
        allowance_date=date(2026, 3, 2),
        seller_ubn="12345675",
        seller_name="示範商行",
        seller_address="臺北市中正區重慶南路一段 2 號",
        buyer_ubn="22099131",
        buyer_name="台灣積體電路製造股份有限公司",
        lines=(line,),
        tax_amount=6,
        total_amount=124,
    )


def test_the_return_pdf_prints_every_box_label_in_full(tmp_path: Path, pdf_tools: None) -> None:  # noqa: F811
    text = text_of_plain(render_tax_return(_return_document(), "示範商行"), tmp_path)

    assert "…" not in text
    squeezed = _squeezed(text)
    for label in LONG_LABELS:
        assert _squeezed(label) in squeezed, label
    for code, label_en, label_zh in LINES:
        assert _squeezed(label_zh) in squeezed, code
        assert _squeezed(label_en) in squeezed, code


def _words(pdf: bytes, tmp: Path) -> list[tuple[str, float, float, float]]:
    """(word, xMin, xMax, yMin) in points, from pdftotext -bbox."""
    path = tmp / "words.pdf"
    path.write_bytes(pdf)
    xhtml = _run(["pdftotext", "-bbox", str(path), "-"])
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>'
    return [(w, float(x0), float(x1), float(y0)) for x0, y0, x1, w in re.findall(pattern, xhtml)]


def test_the_allowance_table_titles_stay_inside_their_columns(tmp_path: Path, pdf_tools: None) -> None:  # noqa: F811
    words = _words(render_allowance(_allowance()), tmp_path)
    left = MARGIN
    for title, width, _align in COLUMNS:
        for part in title.split(" "):
            [(_, x0, x1, _y)] = [w for w in words if w[0] == part][:1]
            assert left * MM <= x0 and x1 <= (left + width) * MM, f"{part} of {title!r} leaves its column"
        left += width


def test_the_allowance_pdf_has_the_amount_header_and_a_receipt_area(tmp_path: Path, pdf_tools: None) -> None:  # noqa: F811
    text = text_of_plain(render_allowance(_allowance()), tmp_path)

    assert "金額(未稅)" in text and "Amount" in text
    assert "買方簽收" in text and "Received by the buyer" in text
    assert "簽名或蓋章" in text and "簽收日期" in text
