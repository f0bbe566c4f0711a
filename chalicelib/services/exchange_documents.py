"""An exchanged (交換) invoice as MIG 4.1 messages: the A0101 itself and each answer that exists.

Built only from the stored record (the invoice and ``exchange.messages``), as the storage messages
are (services/invoice_documents.py), so what is downloaded is what the state says happened: an
answer that came in as XML (``POST /v1/mig/A0102``…) is kept as the fields it carried and built
again from them, the same message whichever way it arrived.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.domain.errors import NotFound
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.services.invoice_documents import buyer_element, seller_element

if TYPE_CHECKING:
    from chalicelib.documents.mig import MigMessage


def a0101(record: InvoiceRecord) -> MigMessage:
    """The A0101 (開立發票, exchange) of an exchanged invoice."""
    from chalicelib.documents.mig import ExchangeInvoice

    amounts = record.amounts
    return ExchangeInvoice.from_data(
        {
            "main": {
                "invoice_number": record.invoice_number,
                "invoice_date": record.invoice_date,
                "invoice_time": record.invoice_time,
                "seller": seller_element(record.seller),
                "buyer": buyer_element(record.buyer),
                "main_remark": record.main_remark,
                "customs_clearance_mark": record.customs_clearance_mark,
                "relate_number": record.order_id,
                "invoice_type": record.invoice_type,
                "donate_mark": "0",  # a business buyer: never donated
                "zero_tax_rate_reason": record.zero_tax_rate_reason,
            },
            "details": [
                {
                    "description": item.description,
                    "quantity": item.quantity,
                    "unit": item.unit,
                    "unit_price": item.unit_price,
                    "tax_type": item.tax_type,
                    "amount": item.amount,
                    "sequence_number": str(item.sequence),
                    "remark": item.remark,
                }
                for item in record.items
            ],
            # A0101 has one SalesAmount and no zero-rated or tax-free figure of its own: everything
            # before tax, so that SalesAmount + TaxAmount = TotalAmount holds for a mixed invoice too.
            "amount": {
                "sales_amount": amounts.total_amount - amounts.tax_amount,
                "tax_type": amounts.tax_type,
                "tax_rate": Decimal(amounts.tax_rate),
                "tax_amount": amounts.tax_amount,
                "total_amount": amounts.total_amount,
            },
        }
    )


def _parties(record: InvoiceRecord) -> dict[str, Any]:
    return {"invoice_date": record.invoice_date, "buyer_id": record.buyer["ubn"], "seller_id": record.seller["ubn"]}


def _at(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(entry["at"]))


def _given(entry: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: entry.get(name) for name in names}


def _answer(record: InvoiceRecord, message_type: str, entry: dict[str, Any]) -> MigMessage:
    from chalicelib.documents.mig import (
        CancelInvoiceConfirm,
        ExchangeCancelInvoice,
        InvoiceConfirm,
        RejectInvoice,
        RejectInvoiceConfirm,
    )

    at = _at(entry)
    number = record.invoice_number
    date, time = at.date(), at.strftime("%H:%M:%S")
    if message_type == "A0102":
        return InvoiceConfirm.from_data(
            {
                "invoice_number": number,
                **_parties(record),
                "receive_date": date,
                "receive_time": time,
                **_given(entry, "buyer_remark", "remark", "bonded_area_confirm"),
            }
        )
    if message_type == "A0201":
        return ExchangeCancelInvoice.from_data(
            {
                "cancel_invoice_number": number,
                **_parties(record),
                "cancel_date": date,
                "cancel_time": time,
                "cancel_reason": entry["reason"],
                **_given(entry, "return_tax_document_number", "remark"),
            }
        )
    if message_type == "A0202":
        return CancelInvoiceConfirm.from_data(
            {"cancel_invoice_number": number, **_parties(record), "cancel_date": date, "cancel_time": time}
            | _given(entry, "remark")
        )
    if message_type == "A0301":
        return RejectInvoice.from_data(
            {
                "reject_invoice_number": number,
                **_parties(record),
                "reject_date": date,
                "reject_time": time,
                "reject_reason": entry["reason"],
                **_given(entry, "remark"),
            }
        )
    if message_type == "A0302":
        return RejectInvoiceConfirm.from_data(
            {"reject_invoice_number": number, **_parties(record), "reject_date": date, "reject_time": time}
            | _given(entry, "remark")
        )
    raise ValueError(f"no exchange answer {message_type}")


def exchange_message(record: InvoiceRecord, message_type: str) -> MigMessage:
    """Message ``message_type`` of an exchanged invoice; ``NotFound`` when it does not exist (yet)."""
    exchange = record.exchange
    if exchange is None:
        raise NotFound("EXCHANGE_NOT_FOUND", "No such exchange", "查無此交換發票")
    if message_type == "A0101":
        return a0101(record)
    entry = exchange.messages.get(message_type)
    if entry is None:
        raise NotFound(
            "EXCHANGE_MESSAGE_NOT_FOUND",
            f"This exchange has no {message_type} (yet); it has: {', '.join(message_types(record))}",
            f"此交換發票沒有 {message_type} 訊息；現有：{'、'.join(message_types(record))}",
            "message_type",
        )
    return _answer(record, message_type, entry)


def message_types(record: InvoiceRecord) -> list[str]:
    """The messages that exist for an exchanged invoice, in the order they happened."""
    exchange = record.exchange
    if exchange is None:
        return []
    # Ordered by when the platform recorded each (a stored map keeps no order of its own).
    kept = sorted(exchange.messages.items(), key=lambda item: str(item[1].get("recorded_at") or item[1].get("at")))
    return ["A0101", *(name for name, _ in kept)]
