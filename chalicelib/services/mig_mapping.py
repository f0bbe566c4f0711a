"""MIG 4.1 messages as the JSON API's request bodies, and the JSON API's error fields as MIG
element paths: the mapping both ways between an ERP's XML and the platform's one set of rules."""

from __future__ import annotations

from typing import Any

from chalicelib.documents.mig import Allowance, ExchangeInvoice, Invoice
from chalicelib.domain.errors import DomainError, RuleViolation
from chalicelib.domain.invoice_type import InvoiceType
from chalicelib.domain.ubn import CONSUMER_BUYER_ID


def draft_of(invoice: Invoice) -> dict[str, Any]:
    """The JSON API body of an F0401: the same validation applies to both ways in."""
    main = invoice.main
    is_b2b = main.buyer.identifier != CONSUMER_BUYER_ID
    buyer: dict[str, Any] = {"ubn": main.buyer.identifier if is_b2b else None, "name": main.buyer.name}
    if is_b2b:
        buyer |= {
            "address": main.buyer.address,
            "person_in_charge": main.buyer.person_in_charge,
            "telephone": main.buyer.telephone_number,
            "email": main.buyer.email_address,
            "customer_number": main.buyer.customer_number,
        }
    carrier = None
    if main.carrier_type and main.carrier_id1:
        carrier = {"type": main.carrier_type, "id": main.carrier_id1}
        if main.carrier_id2 and main.carrier_id2 != main.carrier_id1:
            carrier["hidden_id"] = main.carrier_id2
    body: dict[str, Any] = {
        "buyer": {k: v for k, v in buyer.items() if v is not None},
        "carrier": carrier,
        "donation_code": main.npoban if main.donate_mark == "1" else None,
        "print": main.print_mark == "Y",
        "items": [
            {
                "description": item.description,
                "quantity": str(item.quantity),
                "unit": item.unit,
                "unit_price": str(item.unit_price),
                "tax_type": item.tax_type,
                "remark": item.remark,
            }
            for item in invoice.details
        ],
        # MIG convention: B2B lines and SalesAmount are before tax, B2C ones include it.
        "prices_include_tax": not is_b2b,
        "invoice_type": main.invoice_type,
        "customs_clearance_mark": main.customs_clearance_mark,
        "zero_tax_rate_reason": main.zero_tax_rate_reason,
        "order_id": main.relate_number,
        "main_remark": main.main_remark,
    }
    if main.invoice_type == InvoiceType.SPECIAL.value and invoice.amount.tax_type == "4":
        body["special_tax_rate"] = str(invoice.amount.tax_rate)
    for index, item in enumerate(body["items"]):
        body["items"][index] = {k: v for k, v in item.items() if v is not None}
    return {k: v for k, v in body.items() if v is not None}


def exchange_draft_of(invoice: ExchangeInvoice) -> dict[str, Any]:
    """The JSON API body of an A0101: a B2B invoice issued for exchange (``exchange: true``). It has
    no carrier, print mark, donation or random number; its lines are before tax, as B2B lines are."""
    main = invoice.main
    buyer = {
        "ubn": main.buyer.identifier,
        "name": main.buyer.name,
        "address": main.buyer.address,
        "person_in_charge": main.buyer.person_in_charge,
        "telephone": main.buyer.telephone_number,
        "email": main.buyer.email_address,
        "customer_number": main.buyer.customer_number,
    }
    body: dict[str, Any] = {
        "buyer": {k: v for k, v in buyer.items() if v is not None},
        "print": False,
        "exchange": True,
        "items": [
            {
                k: v
                for k, v in {
                    "description": item.description,
                    "quantity": str(item.quantity),
                    "unit": item.unit,
                    "unit_price": str(item.unit_price),
                    "tax_type": item.tax_type,
                    "remark": item.remark,
                }.items()
                if v is not None
            }
            for item in invoice.details
        ],
        "prices_include_tax": False,
        "invoice_type": main.invoice_type,
        "customs_clearance_mark": main.customs_clearance_mark,
        "zero_tax_rate_reason": main.zero_tax_rate_reason,
        "order_id": main.relate_number,
        "main_remark": main.main_remark,
    }
    if main.invoice_type == InvoiceType.SPECIAL.value and invoice.amount.tax_type == "4":
        body["special_tax_rate"] = str(invoice.amount.tax_rate)
    return {k: v for k, v in body.items() if v is not None}


def allowance_body(message: Allowance) -> dict[str, Any]:
    """The JSON API body of a G0401: tax-exclusive unit prices, as the message carries them."""
    main = message.main
    items = []
    for item in message.details:
        sequence: Any = item.original_sequence_number
        if sequence is not None and sequence.isdigit():
            sequence = int(sequence)
        line: dict[str, Any] = {
            "original_invoice_number": item.original_invoice_number,
            "original_sequence_number": sequence,
            "description": item.original_description,
            "quantity": str(item.quantity),
            "unit": item.unit,
            "unit_price": str(item.unit_price),
            "tax_type": item.tax_type,
        }
        items.append({k: v for k, v in line.items() if v is not None})
    return {
        "allowance_number": main.allowance_number,
        "allowance_date": main.allowance_date.isoformat(),
        "items": items,
        "prices_include_tax": False,
    }


_ALLOWANCE_FIELDS = {
    "allowance_number": "Main.AllowanceNumber",
    "allowance_date": "Main.AllowanceDate",
    "remark": "Main",
    "items": "Details.ProductItem",
}
_ALLOWANCE_ITEM_FIELDS = {
    "original_invoice_number": "OriginalInvoiceNumber",
    "original_sequence_number": "OriginalSequenceNumber",
    "description": "OriginalDescription",
    "quantity": "Quantity",
    "unit": "Unit",
    "unit_price": "UnitPrice",
    "tax_type": "TaxType",
}


def mig_allowance_error(error: DomainError) -> DomainError:
    """The allowance rules name JSON fields (``items[0].unit_price``); the ERP knows MIG names."""
    field = error.field
    if field and field.startswith("replacement."):  # a re-issue's rules name its replacement's fields
        field = field.removeprefix("replacement.")
        error = type(error)(error.code, error.message, error.message_zh, field)
    if not field or field.startswith(("Main", "Details", "Amount")):
        return error
    head, _, rest = field.partition(".")
    name, bracket, index = head.partition("[")
    mapped = _ALLOWANCE_FIELDS.get(name)
    if mapped is None:
        return type(error)(error.code, error.message, error.message_zh, "Details.ProductItem")
    if bracket:
        mapped += f"[{index}"
        if rest:
            mapped += "." + _ALLOWANCE_ITEM_FIELDS.get(rest.split(".")[0], rest)
    return type(error)(error.code, error.message, error.message_zh, mapped)


# Whose field a message repeats, for the refusal when it does not match: the original invoice, a
# storage allowance (折讓單) or an allowance by exchange (折讓證明單).
_WHOSE = {
    "invoice": ("the invoice", "原發票"),
    "allowance": ("the allowance", "原折讓單"),
    "allowance_proof": ("the allowance", "原折讓證明單"),
}


def message_differs(field: str, what: str, what_zh: str, of: str = "invoice") -> RuleViolation:
    """A MIG message's ``field`` names another ``what`` than the document it answers has."""
    whose, whose_zh = _WHOSE[of]
    return RuleViolation(
        "MESSAGE_DOES_NOT_MATCH",
        f"{field} is not the {what} of {whose}",
        f"{field} 與{whose_zh}的{what_zh}不符",
        field,
    )
