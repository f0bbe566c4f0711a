"""The documents of a filed return: the machine-readable JSON (every box by its code, for an
accountant's tools) and the PDF made from it, and the counts both carry."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from chalicelib.domain.filing import TaxReturn
from chalicelib.domain.filing_status import payment_reference
from chalicelib.domain.period import Period
from chalicelib.services.filing_views import LINES


def counts_of(inputs: Mapping[str, Any]) -> dict[str, int]:
    general, special, purchases = (inputs.get(n) or {} for n in ("general", "special", "purchases"))
    return {
        "invoices": int(general.get("invoice_count") or 0) + int(special.get("invoice_count") or 0),
        "b2b_invoices": int(general.get("b2b_count") or 0) + int(special.get("b2b_count") or 0),
        "b2c_invoices": int(general.get("b2c_count") or 0) + int(special.get("b2c_count") or 0),
        "cancelled": int(general.get("cancelled_count") or 0) + int(special.get("cancelled_count") or 0),
        "allowances": int(general.get("allowance_count") or 0) + int(special.get("allowance_count") or 0),
        "received_invoices": int(purchases.get("invoice_count") or 0),
        "received_allowances": int(purchases.get("allowance_count") or 0),
    }


def machine_readable(
    ubn: str,
    period: Period,
    version: int,
    figures: TaxReturn,
    now: datetime,
    actor: str,
    reason: str | None,
    counts: Mapping[str, int],
    *,
    due_by: date,
) -> dict[str, Any]:
    """The filed return as JSON: every box by its code, with labels, for an accountant's tools."""
    return {
        "document": "business-tax-return",
        "schema_version": 1,
        "form": figures.form,
        "complete": figures.complete,
        "ubn": ubn,
        "period": period.code,
        "period_label_zh": period.label_zh,
        "version": version,
        "correction_reason": reason,
        "filed_at": now.isoformat(),
        "filed_by": actor,
        "due_by": due_by.isoformat(),
        "payment_reference": payment_reference(ubn, period),
        "fields": figures.fields,
        "lines": [{"code": c, "label": en, "label_zh": zh, "value": figures.fields[c]} for c, en, zh in LINES],
        "counts": dict(counts),
        "statements": [s.__dict__ for s in figures.statements],
    }


def render_pdf(document: Mapping[str, Any], merchant_name: str) -> bytes:
    # fpdf2 and the fonts stay out of the API's import path until a return is filed.
    from chalicelib.documents.pdf.tax_return import render_tax_return

    return render_tax_return(document, merchant_name)
