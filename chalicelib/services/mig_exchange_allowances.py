"""Allowances by B2B exchange (交換折讓) as MIG 4.1 XML in (``POST /v1/mig/{type}``): the issuer's
B0101 and B0201, the other party's B0102 and B0202, each from the party whose step it is only.

Who that is follows from the message's AllowanceType (1: the buyer issued it, 2: the seller): a
B0101 or B0201 must carry the caller's UBN on the issuer's side, a B0102 or B0202 on the other
side. The allowance itself is issued and answered by services/exchange_allowances.py, the same
use case as the JSON API, so every rule applies alike; a B0101's own figures must match the
platform's computation from its lines. The same message again is answered as accepted once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from chalicelib.documents.mig import (
    AllowanceConfirm,
    CancelAllowanceConfirm,
    ExchangeAllowance,
    ExchangeCancelAllowance,
    MigMessage,
)
from chalicelib.domain.allowance import compute_allowance_amounts
from chalicelib.domain.errors import Conflict, DomainError, InvalidInput, NotFound, RuleViolation
from chalicelib.domain.exchange import ExchangeAction, Party, exchange_id, other
from chalicelib.domain.exchange_allowance import (
    ISSUER_OF_TYPE,
    ExchangeAllowanceRequest,
    allowance_exchange_id,
)
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.period import TAIWAN_TZ
from chalicelib.domain.validation import parse_model
from chalicelib.services.exchange import Answer
from chalicelib.services.mig_mapping import message_differs, mig_allowance_error

#: The B2B exchange allowance messages this intake takes.
MESSAGES = ("B0101", "B0102", "B0201", "B0202")


class ExchangeAllowances(Protocol):
    """The exchange allowance use case (services/exchange_allowances.py)."""

    def get(self, ubn: str, ident: str) -> Any: ...

    def invoice(self, ubn: str, invoice_ident: str) -> InvoiceRecord: ...

    def issue(self, ubn: str, invoice_ident: str, body: Any, *, actor: str) -> Any: ...

    def take(self, ubn: str, ident: str, action: ExchangeAction, answer: Answer, *, actor: str) -> Any: ...


def _mig_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _not_caller(field: str, message_type: str) -> RuleViolation:
    return RuleViolation(
        "PARTY_NOT_CALLER",
        f"{field} must be your own UBN: only that party sends {message_type} for this AllowanceType",
        f"{field} 須為您自己的統一編號：依 AllowanceType，{message_type} 僅由該方傳送",
        field,
    )


def _differs(field: str, what: str, what_zh: str, of: str = "allowance_proof") -> RuleViolation:
    return message_differs(field, what, what_zh, of)


def _mismatch(field: str, ours: Any, theirs: Any) -> RuleViolation:
    error = RuleViolation(
        "AMOUNT_MISMATCH",
        f"{field} is {theirs} but the lines give {ours}",
        f"{field} 為 {theirs}，依明細計算應為 {ours}",
        field,
    )
    error.mof_code = "E0103"  # 明細加總與總金額不符
    return error


def _invoice_field(error: DomainError) -> DomainError:
    """The rules name JSON fields (``exchange_id``, ``items[0]…``); a B0101 has MIG ones."""
    if error.field in ("exchange_id", "state"):
        clone = type(error)(error.code, error.message, error.message_zh, "Details.ProductItem[0].OriginalInvoiceNumber")
        clone.mof_code = error.mof_code
        return clone
    return mig_allowance_error(error)


def b0101(ubn: str, message: ExchangeAllowance, allowances: ExchangeAllowances, *, actor: str) -> tuple[str, bool]:
    """An allowance by exchange from its issuer: the seller (AllowanceType 2, Seller.Identifier the
    caller) or the buyer (1, Buyer.Identifier the caller), on one exchanged invoice. Answers its
    number and whether this same message had issued it already."""
    main = message.main
    issuer = ISSUER_OF_TYPE[main.allowance_type]
    own_field = "Main.Seller.Identifier" if issuer is Party.SELLER else "Main.Buyer.Identifier"
    if (main.seller.identifier if issuer is Party.SELLER else main.buyer.identifier) != ubn:
        raise _not_caller(own_field, "B0101")
    invoice_number = _one_invoice(message)
    body = _body(message)
    _check_amounts(message, body, invoice_number)
    seller = main.seller.identifier
    replayed = _replayed(ubn, message, allowances, issuer, invoice_number)
    if replayed:
        return main.allowance_number, True  # the ERP sent it again: it was issued once
    invoice_ident = exchange_id(seller, invoice_number)
    try:
        invoice = allowances.invoice(ubn, invoice_ident)
        if invoice.buyer.get("ubn") != main.buyer.identifier:
            raise _differs("Main.Buyer.Identifier", "buyer", "買方", "invoice")
        for index, item in enumerate(message.details):
            if item.original_invoice_date != invoice.invoice_date:
                field = f"Details.ProductItem[{index}].OriginalInvoiceDate"
                raise _differs(field, "invoice date", "發票日期", "invoice")
        allowances.issue(ubn, invoice_ident, body, actor=actor)
    except DomainError as error:
        raise _invoice_field(error) from None
    return main.allowance_number, False


def _one_invoice(message: ExchangeAllowance) -> str:
    numbers = [item.original_invoice_number for item in message.details]
    for index, number in enumerate(numbers):
        if number != numbers[0]:
            raise RuleViolation(
                "EXCHANGE_ALLOWANCE_ONE_INVOICE",
                "An exchange allowance reduces one exchanged invoice; send one B0101 per invoice.",
                "交換折讓證明單僅能折讓一張交換發票；請每張發票各傳一份 B0101。",
                f"Details.ProductItem[{index}].OriginalInvoiceNumber",
            )
    return numbers[0]


def _body(message: ExchangeAllowance) -> dict[str, Any]:
    """The JSON body of a B0101 (services/exchange_allowances.py takes it as over the API)."""
    items = []
    for item in message.details:
        sequence = item.original_sequence_number
        given = {
            "original_sequence_number": int(sequence) if sequence is not None and sequence.isdigit() else None,
            "description": item.original_description,
            "quantity": str(item.quantity),
            "unit": item.unit,
            "unit_price": str(item.unit_price),
            "tax_type": item.tax_type,
        }
        items.append({k: v for k, v in given.items() if v is not None})
    main = message.main
    return {
        "allowance_number": main.allowance_number,
        "allowance_date": main.allowance_date.isoformat(),
        "items": items,
        "prices_include_tax": False,  # B0101 states prices before tax
    }


def _check_amounts(message: ExchangeAllowance, body: dict[str, Any], invoice_number: str) -> None:
    """The message's own figures must be the platform's computation from its lines."""
    try:
        request = parse_model(ExchangeAllowanceRequest, body)
    except InvalidInput as error:
        raise mig_allowance_error(error) from None
    amounts = compute_allowance_amounts([line.on(invoice_number) for line in request.items], prices_include_tax=False)
    for index, (item, computed) in enumerate(zip(message.details, amounts.lines, strict=True)):
        base = f"Details.ProductItem[{index}]"
        if computed.amount != item.amount:
            raise _mismatch(f"{base}.Amount", computed.amount.normalize(), item.amount)
        if computed.tax != item.tax:
            raise _mismatch(f"{base}.Tax", computed.tax, item.tax)
    if amounts.tax_amount != message.amount.tax_amount:
        raise _mismatch("Amount.TaxAmount", amounts.tax_amount, message.amount.tax_amount)
    if amounts.total_amount != message.amount.total_amount:
        raise _mismatch("Amount.TotalAmount", amounts.total_amount, message.amount.total_amount)


def _replayed(
    ubn: str, message: ExchangeAllowance, allowances: ExchangeAllowances, issuer: Party, invoice_number: str
) -> bool:
    """True when this same B0101 issued its allowance already; a different one under a number the
    seller's allowances use is refused."""
    main = message.main
    try:
        existing = allowances.get(ubn, allowance_exchange_id(main.seller.identifier, main.allowance_number))
    except NotFound:
        return False
    record = existing.record
    if (
        existing.issuer is issuer
        and record.allowance_date == main.allowance_date
        and (record.total_amount, record.tax_amount) == (message.amount.total_amount, message.amount.tax_amount)
        and record.originals[0].invoice_number == invoice_number
    ):
        return True
    raise Conflict(
        "ALLOWANCE_NUMBER_TAKEN",
        f"Allowance number {main.allowance_number} is already used",
        f"折讓證明單號碼 {main.allowance_number} 已被使用",
        "Main.AllowanceNumber",
    )


_ANSWERS: dict[type, tuple[ExchangeAction, str, str, str, str | None]] = {
    # (step, number field, date field, time field, reason field)
    AllowanceConfirm: (ExchangeAction.CONFIRM, "allowance_number", "receive_date", "receive_time", None),
    ExchangeCancelAllowance: (
        ExchangeAction.CANCEL,
        "cancel_allowance_number",
        "cancel_date",
        "cancel_time",
        "cancel_reason",
    ),
    CancelAllowanceConfirm: (
        ExchangeAction.CONFIRM_CANCEL,
        "cancel_allowance_number",
        "cancel_date",
        "cancel_time",
        None,
    ),
}
ANSWERS = tuple(_ANSWERS)


def answer(ubn: str, message: MigMessage, allowances: ExchangeAllowances, *, actor: str) -> tuple[str, bool]:
    """B0102, B0201 or B0202 from the party whose step it is: the issuer sends B0201, the other
    party B0102 and B0202 (by the message's AllowanceType). Answers the number and whether it was
    a replay."""
    action, number_name, date_name, time_name, reason_name = _ANSWERS[type(message)]
    mig_type = str(message.message_type)
    number_field = _mig_name(number_name)
    issuer = ISSUER_OF_TYPE[message.allowance_type]  # type: ignore[attr-defined]
    party = issuer if action is ExchangeAction.CANCEL else other(issuer)
    own_field = "SellerId" if party is Party.SELLER else "BuyerId"
    seller, buyer = str(message.seller_id), str(message.buyer_id)  # type: ignore[attr-defined]
    if (seller if party is Party.SELLER else buyer) != ubn:
        raise _not_caller(own_field, mig_type)
    number = str(getattr(message, number_name))
    ident = allowance_exchange_id(seller, number)
    try:
        found = allowances.get(ubn, ident)
    except NotFound as error:
        raise NotFound(error.code, error.message, error.message_zh, number_field) from None
    record = found.record
    if buyer != record.buyer.get("ubn"):
        raise _differs("BuyerId", "buyer", "買方")
    if message.allowance_date != record.allowance_date:  # type: ignore[attr-defined]
        raise _differs("AllowanceDate", "allowance date", "折讓證明單日期")
    if found.issuer is not issuer:
        raise _differs("AllowanceType", "issuer (AllowanceType)", "開立方（AllowanceType）")
    at = datetime.combine(getattr(message, date_name), getattr(message, time_name), tzinfo=TAIWAN_TZ)
    kept = found.exchange.messages.get(mig_type)
    if kept is not None and kept.get("at") == at.isoformat():
        return number, True  # the ERP sent it again: it was applied once
    said = Answer(
        reason=getattr(message, reason_name) if reason_name else None,
        remark=getattr(message, "remark", None),
        at=at,
    )
    try:
        allowances.take(ubn, ident, action, said, actor=actor)
    except DomainError as error:
        mapped = {
            "reason": _mig_name(reason_name) if reason_name else None,
            "action": own_field,
            "state": number_field,
        }.get(error.field or "")
        if mapped is None:
            raise
        clone = type(error)(error.code, error.message, error.message_zh, mapped)
        clone.mof_code = error.mof_code
        raise clone from None
    return number, False
