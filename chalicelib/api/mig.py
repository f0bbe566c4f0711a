"""``POST /v1/mig/{message_type}``: MIG 4.1 XML, the Turnkey-style way in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response
from pydantic import BaseModel

from chalicelib.api import deps
from chalicelib.api.errors import ApiError, json_response, status_for
from chalicelib.api.mof_codes import mof_code_for
from chalicelib.api.routing import operation
from chalicelib.domain.errors import DomainError
from chalicelib.services.principal import Principal

if TYPE_CHECKING:
    # The intake and the MIG models (lxml) are imported by the route, not at start: only MIG clients
    # use it, and every cold start of the API would pay for them.
    from chalicelib.documents.mig import MigMessage
    from chalicelib.services.mig_intake import MessageResult, MigIntake

bp = Blueprint(__name__)
TAG = "MIG XML"
MAX_BYTES = 5 * 1024 * 1024  # the API Gateway payload limit is 10 MB; a message is far smaller


class MigResult(BaseModel):
    invoice_number: str | None = None
    status: str
    field: str | None = None
    code: str | None = None
    reason: str | None = None
    reason_zh: str | None = None
    mof_code: str | None = None  # the MOF's official result code for ``code``, where one applies


class MigResponse(BaseModel):
    message_type: str
    results: list[MigResult]


def mig_intake() -> MigIntake:
    return deps.mig_intake()


def _body() -> bytes:
    raw = bp.current_request.raw_body
    data = raw.encode() if isinstance(raw, str) else (raw or b"")
    if not data:
        raise ApiError(400, "MISSING_BODY", "An XML request body is required", "缺少 XML 請求內容")
    if len(data) > MAX_BYTES:
        raise ApiError(413, "BODY_TOO_LARGE", "The message is too large", "訊息過大")
    return data


def _answer(message_type: str, result: MessageResult, status: int) -> Response:
    data = result.as_dict()
    official = mof_code_for(result.code, result.mof_code) if result.code else None
    if official is not None:
        data["mof_code"] = official
    body = MigResponse(message_type=message_type, results=[MigResult(**data)])
    return json_response(body.model_dump(mode="json", exclude_none=True), status)


@operation(
    bp,
    "/v1/mig/{message_type}",
    "POST",
    rate="issue",
    summary="MIG 4.1 XML in: F0401, F0501, F0701 (then its replacement F0401), G0401, G0501, G0701 (then its "
    "G0401); B2B exchange A0101, A0102, A0201, A0202, A0301, A0302, B0101, B0102, B0201, B0202",
    description=(
        "Parsed with a hardened parser (no DTDs, no entities) and validated against the MOF's official MIG 4.1 "
        "XSD: a failure answers 400 naming the element (field) and its line, with mof_code E0304 (structure) "
        "or E0305 (a value); unreadable XML is E0306. "
        "An F0401 must carry your own UBN as seller and the next number of one of your channels this period; "
        "its Amount block must match the platform's computation. An F0701 (void) is kept for 48 h and answers "
        "status awaiting_replacement; the F0401 that follows with the same InvoiceNumber (same date and time, "
        "items and amounts; new RandomNumber; corrected buyer/carrier/donation/print) re-issues the invoice. "
        "A G0401's line taxes and Amount block must match the platform's computation; the identical message "
        "again answers the same allowance. A G0701 (void an allowance) is checked as POST "
        "/v1/allowances/{allowance_number}/void is (issued, within 48 h of its issue and in that period), kept "
        "for 48 h and answers awaiting_replacement; the G0401 that follows with the same AllowanceNumber and "
        "AllowanceDate re-issues it with its lines in one transaction. "
        "B2B exchange (交換, docs/exchange.md): an A0101 is checked as an F0401 is and issued for exchange (its "
        "buyer must receive by exchange); A0201 (cancel) and A0302 (confirm a rejection) come from the seller "
        "(SellerId your UBN), A0102 (confirm), A0301 (reject) and A0202 (confirm a cancel) from the buyer (BuyerId "
        "your UBN), each only in the state that allows it; the same answer again is accepted once. "
        "Allowances by exchange (交換折讓): a B0101 comes from its issuer (AllowanceType 2: the seller, "
        "Seller.Identifier your UBN; 1: the buyer, Buyer.Identifier your UBN) on one exchanged invoice its buyer "
        "confirmed, its line amounts and totals matching the platform's computation; B0201 (cancel) also from the "
        "issuer, B0102 (confirm) and B0202 (confirm the cancel) from the other party. "
        "Answers a result per message."
    ),
    tag=TAG,
    response=MigResponse,
    status=201,
    auth="merchant",
    scope="invoices:write",
    content_types=("application/xml", "text/xml"),
    raw_body="MIG 4.1 XML of the message type",
    errors=(400, 404, 409, 413, 422),
)
def mig_message(message_type: str, principal: Principal) -> Response:
    from chalicelib.documents.mig import (
        Allowance,
        CancelAllowance,
        CancelInvoice,
        ExchangeAllowance,
        ExchangeInvoice,
        Invoice,
        VoidAllowance,
        VoidInvoice,
    )
    from chalicelib.services.mig_exchange_allowances import ANSWERS as ALLOWANCE_ANSWERS
    from chalicelib.services.mig_intake import EXCHANGE_ANSWERS, SUPPORTED, MessageResult, rejected

    if message_type not in SUPPORTED:
        raise ApiError(
            404,
            "UNKNOWN_MESSAGE_TYPE",
            "Known message types: " + ", ".join(SUPPORTED),
            "可用的訊息類型：" + "、".join(SUPPORTED),
            "message_type",
        )
    intake = mig_intake()
    message = intake.parse(message_type, _body())  # InvalidInput (400) names the MIG field
    number = number_of(message)
    try:
        if isinstance(message, Invoice):
            issued = intake.f0401(principal.ubn, message, actor=principal.actor, voider=deps.lifecycle_service())
            result = MessageResult(invoice_number=issued.record.invoice_number, status="accepted")
            return _answer(message_type, result, 200 if issued.replayed else 201)
        if isinstance(message, (ExchangeInvoice, *EXCHANGE_ANSWERS, ExchangeAllowance, *ALLOWANCE_ANSWERS)):
            return _exchange(message_type, message, principal, intake)
        if isinstance(message, VoidInvoice | VoidAllowance):
            voided = (
                intake.void_invoice(principal.ubn, message, clock=deps.rules_clock())
                if isinstance(message, VoidInvoice)
                else intake.void_allowance(principal.ubn, message, deps.allowance_service(), clock=deps.rules_clock())
            )
            return _answer(message_type, MessageResult(invoice_number=voided, status="awaiting_replacement"), 202)
        if isinstance(message, Allowance):
            number, replayed = intake.g0401(principal.ubn, message, deps.allowance_service(), actor=principal.actor)
            return _answer(
                message_type, MessageResult(invoice_number=number, status="accepted"), 200 if replayed else 201
            )
        if isinstance(message, CancelInvoice):
            done = intake.cancel_invoice(principal.ubn, message, deps.lifecycle_service(), actor=principal.actor)
        else:
            assert isinstance(message, CancelAllowance)  # noqa: S101 - every other SUPPORTED type is above
            done = intake.cancel_allowance(principal.ubn, message, cancel_allowance, actor=principal.actor)
    except DomainError as error:
        # A refused message is still answered per message, as Turnkey answers: its field and reason.
        return _answer(message_type, rejected(number, mig_field(error)), status_for(error))
    return _answer(message_type, MessageResult(invoice_number=done, status="accepted"), 200)


def _exchange(message_type: str, message: MigMessage, principal: Principal, intake: MigIntake) -> Response:
    """B2B exchange (交換): the seller's A0101, or either party's answer (services/exchange.py)."""
    from chalicelib.documents.mig import ExchangeAllowance, ExchangeInvoice
    from chalicelib.services.mig_exchange_allowances import ANSWERS as ALLOWANCE_ANSWERS
    from chalicelib.services.mig_intake import MessageResult

    if isinstance(message, (ExchangeAllowance, *ALLOWANCE_ANSWERS)):
        return _exchange_allowance(message_type, message, principal)
    if isinstance(message, ExchangeInvoice):
        issued = intake.a0101(principal.ubn, message, actor=principal.actor)
        result = MessageResult(invoice_number=issued.record.invoice_number, status="accepted")
        return _answer(message_type, result, 200 if issued.replayed else 201)
    answered, _ = intake.exchange_answer(principal.ubn, message, deps.exchange_service(), actor=principal.actor)
    return _answer(message_type, MessageResult(invoice_number=answered, status="accepted"), 200)


def _exchange_allowance(message_type: str, message: MigMessage, principal: Principal) -> Response:
    """An allowance by exchange (交換折讓): its issuer's B0101 or B0201, the other party's B0102 or
    B0202 (services/mig_exchange_allowances.py)."""
    from chalicelib.documents.mig import ExchangeAllowance
    from chalicelib.services import mig_exchange_allowances as intake
    from chalicelib.services.mig_intake import MessageResult

    service = deps.exchange_allowance_service()
    if isinstance(message, ExchangeAllowance):
        number, replayed = intake.b0101(principal.ubn, message, service, actor=principal.actor)
        result = MessageResult(invoice_number=number, status="accepted")
        return _answer(message_type, result, 200 if replayed else 201)
    number, _ = intake.answer(principal.ubn, message, service, actor=principal.actor)
    return _answer(message_type, MessageResult(invoice_number=number, status="accepted"), 200)


def number_of(message: MigMessage) -> str | None:
    """The invoice or allowance number a message is about, for its result."""
    from chalicelib.documents.mig import Allowance, ExchangeAllowance, ExchangeInvoice, Invoice

    if isinstance(message, Invoice | ExchangeInvoice):
        return message.main.invoice_number
    if isinstance(message, Allowance | ExchangeAllowance):
        return message.main.allowance_number
    for name in (
        "cancel_invoice_number",
        "cancel_allowance_number",
        "void_invoice_number",
        "void_allowance_number",
        "reject_invoice_number",
        "invoice_number",
        "allowance_number",
    ):
        number = getattr(message, name, None)
        if isinstance(number, str):
            return number
    return None


def cancel_allowance(ubn: str, number: str, reason: str, remark: str | None, *, actor: str) -> Any:
    from chalicelib.domain.allowance_record import CancelRequest

    return deps.allowance_service().cancel(ubn, number, CancelRequest(reason=reason, remark=remark), actor=actor)


def mig_field(error: DomainError) -> DomainError:
    """Errors of the JSON rules name JSON fields; the ERP only knows MIG names."""
    if error.field and not error.field.startswith(("Main.", "Details.", "Amount.")):
        mapped = _JSON_TO_MIG.get(error.field.split(".")[0].split("[")[0])
        if mapped:
            clone = type(error)(error.code, error.message, error.message_zh, mapped)
            clone.mof_code = error.mof_code
            return clone
    return error


_JSON_TO_MIG: dict[str, Any] = {
    "buyer": "Main.Buyer",
    "carrier": "Main.CarrierType",
    "donation_code": "Main.NPOBAN",
    "print": "Main.PrintMark",
    "items": "Details.ProductItem",
    "customs_clearance_mark": "Main.CustomsClearanceMark",
    "zero_tax_rate_reason": "Main.ZeroTaxRateReason",
    "special_tax_rate": "Amount.TaxRate",
    "order_id": "Main.RelateNumber",
    "channel": "Main.InvoiceNumber",
}
