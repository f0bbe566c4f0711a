"""PDF documents of an invoice: the 5.7 cm 電子發票證明聯 and an A4 invoice.

    from chalicelib.documents.pdf import InvoiceDocument, render_proof, render_a4

Importing this package is cheap: fpdf2, fontTools and segno are imported on the first render,
and the fonts (``make fonts``) are parsed once per process and then reused (see ``_fonts``).
"""

from __future__ import annotations

from chalicelib.documents.pdf.a4 import render_a4
from chalicelib.documents.pdf.model import DocumentItem, InvoiceDocument
from chalicelib.documents.pdf.proof import render_proof

__all__ = ["DocumentItem", "InvoiceDocument", "render_a4", "render_proof"]
