"""Once a period's return is filed, its sales may change only with the tax office's approval.

A cancellation (作廢) of a filed period's invoice would make the filed return wrong; the MOF then
wants a special-case cancellation (專案作廢) with the approval number (ReturnTaxDocumentNumber).
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamo import key
from chalicelib.adapters.dynamo_filings import DynamoFilings, head_key
from chalicelib.adapters.dynamo_invoices import invoices_table, owner
from chalicelib.domain.errors import RuleViolation


def period_filed_error(period: str) -> RuleViolation:
    return RuleViolation(
        "PERIOD_FILED",
        f"The return for period {period} has been filed; a cancellation now needs the tax office's approval "
        "number (return_tax_document_number), or issue an allowance instead.",
        f"{period} 期已申報營業稅；作廢須填入專案作廢核准文號（return_tax_document_number），或改開折讓單。",
        "return_tax_document_number",
    )


def is_filed(ubn: str, period: str) -> bool:
    head = DynamoFilings().head(ubn, period)
    return bool(head and head.get("current_version"))


def ensure_not_filed(ubn: str, period: str) -> None:
    if is_filed(ubn, period):
        raise period_filed_error(period)


def unfiled_condition(ubn: str, period: str) -> dict[str, Any]:
    """Transaction action: holds only while no return of the period is filed (closes the race with a
    submission between our check and the write)."""
    return {
        "ConditionCheck": {
            "TableName": invoices_table(),
            "Key": key(owner(ubn), head_key(period)),
            "ConditionExpression": "attribute_not_exists(current_version)",
        }
    }
