"""An exchanged allowance (交換折讓) as MIG 4.1 messages: its B0101 and each answer that exists
(B0102 confirm, B0201 cancel, B0202 confirm the cancel).

Built only from the stored allowance (its lines and ``exchange.messages``), as the invoice side is
(services/exchange_documents.py): an answer received as XML is kept as the fields it carried and
built again from them, the same message whichever way it arrived. Every one states who issued the
allowance (AllowanceType 1 buyer, 2 seller, domain/exchange_allowance.py).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.domain.allowance_record import AllowanceRecord
from chalicelib.domain.errors import NotFound
from chalicelib.domain.exchange import ALLOWANCE_FLOW
from chalicelib.domain.exchange_allowance import ALLOWANCE_TYPE
from chalicelib.services.invoice_documents import buyer_element, seller_element

if TYPE_CHECKING:
    from chalicelib.documents.mig import MigMessage


def allowance_type(record: AllowanceRecord) -> str:
    if record.exchange is None:
        return "2"  # a storage allowance: the seller's (G0401 fixes it)
    return ALLOWANCE_TYPE[record.exchange.issuer]


def b0101(record: AllowanceRecord) -> MigMessage:
    """The B0101 (開立折讓證明單, exchange) of an exchanged allowance."""
    from chalicelib.documents.mig import ExchangeAllowance

    return ExchangeAllowance.from_data(
        {
            "main": {
                "allowance_number": record.allowance_number,
                "allowance_date": record.allowance_date,
                "seller": seller_element(record.seller),
                "buyer": buyer_element(record.buyer),
                "allowance_type": allowance_type(record),
            },
            "details": [
                {
                    "original_invoice_date": item.original_invoice_date,
                    "original_invoice_number": item.original_invoice_number,
                    "original_sequence_number": (
                        str(item.original_sequence_number) if item.original_sequence_number else None
                    ),
                    "original_description": item.description,
                    "quantity": Decimal(item.quantity),
                    "unit": item.unit,
                    "unit_price": Decimal(item.unit_price),
                    # Whole dollars: an exchange allowance's lines are (services/exchange_allowances.py).
                    "amount": Decimal(item.amount),
                    "tax": item.tax,
                    "allowance_sequence_number": str(item.sequence),
                    "tax_type": item.tax_type,
                }
                for item in record.items
            ],
            "amount": {"tax_amount": record.tax_amount, "total_amount": record.total_amount},
        }
    )


def _answer(record: AllowanceRecord, message_type: str, entry: dict[str, Any]) -> MigMessage:
    from chalicelib.documents.mig import AllowanceConfirm, CancelAllowanceConfirm, ExchangeCancelAllowance

    at = datetime.fromisoformat(str(entry["at"]))
    date, time = at.date(), at.strftime("%H:%M:%S")
    parties = {
        "allowance_date": record.allowance_date,
        "buyer_id": record.buyer["ubn"],
        "seller_id": record.seller["ubn"],
        "allowance_type": allowance_type(record),
        "remark": entry.get("remark"),
    }
    number = record.allowance_number
    if message_type == "B0102":
        return AllowanceConfirm.from_data(
            {"allowance_number": number, "receive_date": date, "receive_time": time, **parties}
        )
    if message_type == "B0201":
        return ExchangeCancelAllowance.from_data(
            {
                "cancel_allowance_number": number,
                "cancel_date": date,
                "cancel_time": time,
                "cancel_reason": entry["reason"],
                **parties,
            }
        )
    if message_type == "B0202":
        return CancelAllowanceConfirm.from_data(
            {"cancel_allowance_number": number, "cancel_date": date, "cancel_time": time, **parties}
        )
    raise ValueError(f"no exchange allowance answer {message_type}")


def exchange_allowance_message(record: AllowanceRecord, message_type: str) -> MigMessage:
    """Message ``message_type`` of an exchanged allowance; ``NotFound`` when it does not exist (yet)."""
    exchange = record.exchange
    if exchange is None:
        raise NotFound("EXCHANGE_ALLOWANCE_NOT_FOUND", "No such exchanged allowance", "查無此交換折讓證明單")
    if message_type == ALLOWANCE_FLOW.issue_message:
        return b0101(record)
    entry = exchange.messages.get(message_type)
    if entry is None or message_type not in ALLOWANCE_FLOW.all_messages():
        kinds = "、".join(message_types(record))
        raise NotFound(
            "EXCHANGE_MESSAGE_NOT_FOUND",
            f"This allowance has no {message_type[:8]} (yet); it has: {', '.join(message_types(record))}",
            f"此交換折讓證明單沒有 {message_type[:8]} 訊息；現有：{kinds}",
            "message_type",
        )
    return _answer(record, message_type, entry)


def message_types(record: AllowanceRecord) -> list[str]:
    """The messages that exist for an exchanged allowance, in the order they happened."""
    exchange = record.exchange
    if exchange is None:
        return []
    kept = sorted(exchange.messages.items(), key=lambda item: str(item[1].get("recorded_at") or item[1].get("at")))
    return [ALLOWANCE_FLOW.issue_message, *(name for name, _ in kept)]
