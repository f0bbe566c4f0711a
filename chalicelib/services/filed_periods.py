"""Once a period's return is filed, its sales may change only with the tax office's approval.

A cancellation (作廢) of a filed period's invoice would make the filed return wrong; the MOF then
wants a special-case cancellation (專案作廢) with the approval number (ReturnTaxDocumentNumber).
"""

from __future__ import annotations

from chalicelib.domain.errors import RuleViolation
from chalicelib.services.ports import FiledPeriods


def period_filed_error(period: str) -> RuleViolation:
    return RuleViolation(
        "PERIOD_FILED",
        f"The return for period {period} has been filed; a cancellation now needs the tax office's approval "
        "number (return_tax_document_number), or issue an allowance instead.",
        f"{period} 期已申報營業稅；作廢須填入專案作廢核准文號（return_tax_document_number），或改開折讓單。",
        "return_tax_document_number",
    )


def ensure_not_filed(filed: FiledPeriods, ubn: str, period: str) -> None:
    if filed.is_filed(ubn, period):
        raise period_filed_error(period)
