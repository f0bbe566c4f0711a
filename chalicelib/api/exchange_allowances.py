"""Allowances by B2B exchange (交換折讓) routes: issue one on an exchanged invoice (B0101), read it
and its MIG messages, and answer it (B0102 confirm, B0201 cancel, B0202 confirm the cancel).

An exchanged allowance's id is ``<seller UBN>-ALW-<allowance number>`` (``12345675-ALW-AL1151200000001``),
the same for both parties whoever issued it. Only the invoice's seller and buyer see it; anyone
else, and any malformed id, gets the 404 of a missing one.
"""

from __future__ import annotations

from typing import Annotated, Any

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api import deps
from chalicelib.api.errors import json_response, xml_response
from chalicelib.api.exchange import ExchangeConfirmRequest, ExchangeMessageLink, ExchangeStep
from chalicelib.api.json_body import parse_json
from chalicelib.api.routing import operation
from chalicelib.domain.allowance_record import AllowanceItemRecord
from chalicelib.domain.exchange import ACTION_LABELS, ALLOWANCE_FLOW, ExchangeAction, Party
from chalicelib.domain.exchange_allowance import ALLOWANCE_TYPE, ExchangeAllowanceRequest
from chalicelib.domain.fields import printable
from chalicelib.services.exchange import Answer
from chalicelib.services.exchange_allowance_documents import message_types
from chalicelib.services.exchange_allowances import ExchangeAllowance
from chalicelib.services.principal import Principal

bp = Blueprint(__name__)
TAG = "B2B exchange"

_ID_DOC = "``<seller UBN>-ALW-<allowance number>``, e.g. 12345675-ALW-AL1151200000001"
_BASE = "/v1/exchange/allowances/12345675-ALW-AL1151200000001"

_VIEW_EXAMPLE: dict[str, Any] = {
    "id": "12345675-ALW-AL1151200000001",
    "kind": "allowance",
    "role": "buyer",
    "issuer": "seller",
    "allowance_type": "2",
    "state": "awaiting_counterpart",
    "state_label": "Awaiting the counterpart",
    "state_label_zh": "待對方確認",
    "waiting_on": "buyer",
    "your_turn": True,
    "actions": ["confirm"],
    "deadline": "2026-12-14T10:00:00+08:00",
    "overdue": False,
    "counterpart": {"ubn": "12345675", "name": "賣方股份有限公司"},
    "invoice": {
        "exchange_id": "12345675-AB12345678",
        "invoice_number": "AB12345678",
        "invoice_date": "2026-12-01",
    },
    "allowance_number": "AL1151200000001",
    "allowance_date": "2026-12-07",
    "period": "11512",
    "status": "pending",
    "items": [
        {
            "sequence": 1,
            "original_invoice_number": "AB12345678",
            "original_invoice_date": "2026-12-01",
            "description": "退貨折讓",
            "quantity": "1",
            "unit_price": "100",
            "amount": "100",
            "tax": 5,
            "tax_type": "1",
        }
    ],
    "sales_amount": 100,
    "tax_amount": 5,
    "total_amount": 105,
    "remark": None,
    "messages": [{"type": "B0101", "link": f"{_BASE}/messages/B0101"}],
    "steps": [{"at": "2026-12-07T10:00:00+08:00", "event": "issued", "by": "seller", "message": "B0101"}],
    "links": {"self": _BASE, "invoice_exchange": "/v1/exchange/12345675-AB12345678", "confirm": f"{_BASE}/confirm"},
}


class ExchangeAllowanceView(BaseModel):
    """One exchanged allowance as the caller (the invoice's seller or buyer) sees it."""

    model_config = ConfigDict(json_schema_extra={"examples": [_VIEW_EXAMPLE]})

    id: str = Field(default="", description=_ID_DOC)
    kind: str = "allowance"
    role: str = Field(default="", description="seller or buyer: which party the caller is")
    issuer: str = Field(default="", description="seller or buyer: who issued the allowance")
    allowance_type: str = Field(default="2", description="B0101 AllowanceType: 1 買方開立, 2 賣方折讓證明通知單")
    state: str = Field(default="", description="awaiting_counterpart, confirmed, cancel_requested or cancelled")
    state_label: str = ""
    state_label_zh: str = ""
    waiting_on: str | None = Field(default=None, description="seller or buyer; null once settled")
    your_turn: bool = False
    actions: list[str] = Field(default_factory=list, description="What the caller may do now (POST …/{action})")
    deadline: str | None = None
    overdue: bool = False
    counterpart: dict[str, Any] = Field(default_factory=dict)
    invoice: dict[str, Any] = Field(default_factory=dict, description="The exchanged invoice it reduces")
    allowance_number: str = ""
    allowance_date: str = ""
    period: str = Field(default="", description="期別 of the allowance date: where it counts once confirmed")
    status: str = Field(default="", description="pending (not yet confirmed: in no total), issued or cancelled")
    items: list[AllowanceItemRecord] = Field(default_factory=list)
    sales_amount: int = Field(default=0, description="Allowed before tax (B0101 Amount.TotalAmount)")
    tax_amount: int = 0
    total_amount: int = Field(default=0, description="Tax included: what the invoice's allowable is reduced by")
    remark: str | None = None
    messages: list[ExchangeMessageLink] = Field(default_factory=list, description="The MIG messages that exist")
    steps: list[ExchangeStep] = Field(default_factory=list, description="What each party did, oldest first")
    links: dict[str, str] = Field(default_factory=dict)


class ExchangeAllowanceList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_VIEW_EXAMPLE]}]})

    items: list[ExchangeAllowanceView] = Field(default_factory=list)


Reason = Annotated[str, *printable(20, min_length=1)]
Remark = Annotated[str, *printable(200, min_length=1)]


class ExchangeAllowanceCancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "金額有誤"}]})

    reason: Reason = Field(description="作廢原因 (MIG B0201 CancelReason), 1-20 characters")
    remark: Remark | None = Field(default=None, description="MIG Remark, at most 200 characters")


def allowance_view(found: ExchangeAllowance) -> ExchangeAllowanceView:
    exchange = found.exchange
    record = found.record
    zh, en = ALLOWANCE_FLOW.label(exchange.state)
    base = f"/v1/exchange/allowances/{found.id}"
    waiting = exchange.waiting_on
    steps = [
        ExchangeStep(
            at=entry.at,
            event=entry.event,
            by=str(entry.detail.get("by") or exchange.issuer.value),
            message=str(entry.detail.get("message") or ""),
            reason=entry.detail.get("reason"),
            remark=entry.detail.get("remark"),
        )
        for entry in record.history
        if entry.event == "issued" or entry.event.startswith("exchange_")
    ]
    links = {"self": base, "invoice_exchange": f"/v1/exchange/{found.invoice_id}"}
    if found.party is Party.SELLER:
        links["allowance"] = f"/v1/allowances/{record.allowance_number}"
    links |= {action.value: f"{base}/{action.value}" for action in found.actions}
    original = record.originals[0]
    return ExchangeAllowanceView(
        id=found.id,
        role=found.party.value,
        issuer=found.issuer.value,
        allowance_type=ALLOWANCE_TYPE[found.issuer],
        state=exchange.state.value,
        state_label=en,
        state_label_zh=zh,
        waiting_on=waiting.value if waiting else None,
        your_turn=waiting is found.party,
        actions=[a.value for a in found.actions],
        deadline=exchange.deadline,
        overdue=found.overdue,
        counterpart=found.counterpart,
        invoice={
            "exchange_id": found.invoice_id,
            "invoice_number": original.invoice_number,
            "invoice_date": original.invoice_date.isoformat(),
        },
        allowance_number=record.allowance_number,
        allowance_date=record.allowance_date.isoformat(),
        period=record.period,
        status=record.status,
        items=record.items,
        sales_amount=record.total_amount,
        tax_amount=record.tax_amount,
        total_amount=found.gross,
        remark=record.remark,
        messages=[ExchangeMessageLink(type=name, link=f"{base}/messages/{name}") for name in message_types(record)],
        steps=steps,
        links=links,
    )


_STEP_ERRORS = (400, 403, 404, 409, 422)


@operation(
    bp,
    "/v1/exchange/{exchange_id}/allowances",
    "POST",
    rate="issue",
    summary="Issue an allowance (折讓證明單, B0101) on an exchanged invoice; its seller or its buyer",
    description=(
        "Either party of the exchanged invoice issues it (the seller: AllowanceType 2 賣方折讓證明通知單; the "
        "buyer: 1 買方開立折讓證明單); the other party confirms it (POST /v1/exchange/allowances/{id}/confirm, "
        "B0102). Only on an invoice its buyer confirmed (A0102) and with no cancel asked for. Its amount (tax "
        "included) is reserved at once on what remains allowable on the invoice, so pending allowances never "
        "exceed it together; the period totals (the seller's allowances, the buyer's purchase returns) count it "
        "only once confirmed. Line amounts before tax must be whole dollars (B0101). See docs/exchange.md."
    ),
    tag=TAG,
    body=ExchangeAllowanceRequest,
    response=ExchangeAllowanceView,
    status=201,
    auth="merchant",
    scope="allowances:write",
    errors=(400, 404, 409, 422),
)
def issue_exchange_allowance(exchange_id: str, body: ExchangeAllowanceRequest, principal: Principal) -> Response:
    raw = parse_json(bp.current_request.raw_body)
    found = deps.exchange_allowance_service().issue(principal.ubn, exchange_id, raw, actor=principal.actor)
    view = allowance_view(found)
    return json_response(view.model_dump(mode="json"), 201, {"Location": view.links["self"]})


@operation(
    bp,
    "/v1/exchange/{exchange_id}/allowances",
    summary="The exchanged allowances on an exchanged invoice, oldest first",
    tag=TAG,
    response=ExchangeAllowanceList,
    auth="merchant",
    scope="allowances:read",
    errors=(404,),
)
def list_exchange_allowances(exchange_id: str, principal: Principal) -> ExchangeAllowanceList:
    found = deps.exchange_allowance_service().of_invoice(principal.ubn, exchange_id)
    return ExchangeAllowanceList(items=[allowance_view(one) for one in found])


@operation(
    bp,
    "/v1/exchange/allowances/{allowance_id}",
    summary="One exchanged allowance: its state, who answers next and by when, its messages and steps",
    tag=TAG,
    response=ExchangeAllowanceView,
    auth="merchant",
    scope="allowances:read",
    errors=(404,),
)
def get_exchange_allowance(allowance_id: str, principal: Principal) -> ExchangeAllowanceView:
    return allowance_view(deps.exchange_allowance_service().get(principal.ubn, allowance_id))


@operation(
    bp,
    "/v1/exchange/allowances/{allowance_id}/messages/{message_type}",
    summary="One MIG 4.1 message of an exchanged allowance (B0101, B0102, B0201, B0202) as XML",
    description="Only the messages that exist for the allowance (its `messages`); another answers 404.",
    tag=TAG,
    auth="merchant",
    scope="allowances:read",
    response_content_type="application/xml",
    errors=(404,),
)
def exchange_allowance_message(allowance_id: str, message_type: str, principal: Principal) -> Response:
    body, name = deps.exchange_allowance_service().message(principal.ubn, allowance_id, message_type)
    return xml_response(body, name)


def take(principal: Principal, allowance_id: str, action: ExchangeAction, answer: Answer) -> ExchangeAllowanceView:
    service = deps.exchange_allowance_service()
    return allowance_view(service.take(principal.ubn, allowance_id, action, answer, actor=principal.actor))


def _summary(action: ExchangeAction, message: str, who: str) -> str:
    return f"{ACTION_LABELS[action][1]} an exchanged allowance ({ACTION_LABELS[action][0]}, {message}); {who} only"


@operation(
    bp,
    "/v1/exchange/allowances/{allowance_id}/confirm",
    "POST",
    rate="issue",
    summary=_summary(ExchangeAction.CONFIRM, "B0102", "the party that did not issue it")
    + ": it then counts in both parties' period totals",
    tag=TAG,
    body=ExchangeConfirmRequest,
    response=ExchangeAllowanceView,
    auth="merchant",
    scope="allowances:write",
    errors=_STEP_ERRORS,
)
def confirm_exchange_allowance(
    allowance_id: str, body: ExchangeConfirmRequest, principal: Principal
) -> ExchangeAllowanceView:
    return take(principal, allowance_id, ExchangeAction.CONFIRM, Answer(remark=body.remark))


@operation(
    bp,
    "/v1/exchange/allowances/{allowance_id}/cancel",
    "POST",
    rate="issue",
    summary=_summary(ExchangeAction.CANCEL, "B0201", "the party that issued it")
    + ": cancelled only when the other party confirms (confirm-cancel)",
    tag=TAG,
    body=ExchangeAllowanceCancelRequest,
    response=ExchangeAllowanceView,
    auth="merchant",
    scope="allowances:write",
    errors=_STEP_ERRORS,
)
def cancel_exchange_allowance(
    allowance_id: str, body: ExchangeAllowanceCancelRequest, principal: Principal
) -> ExchangeAllowanceView:
    return take(principal, allowance_id, ExchangeAction.CANCEL, Answer(reason=body.reason, remark=body.remark))


@operation(
    bp,
    "/v1/exchange/allowances/{allowance_id}/confirm-cancel",
    "POST",
    rate="issue",
    summary=_summary(ExchangeAction.CONFIRM_CANCEL, "B0202", "the party that did not issue it")
    + ": the amount goes back to the invoice and out of both parties' totals",
    tag=TAG,
    body=ExchangeConfirmRequest,
    response=ExchangeAllowanceView,
    auth="merchant",
    scope="allowances:write",
    errors=_STEP_ERRORS,
)
def confirm_cancel_exchange_allowance(
    allowance_id: str, body: ExchangeConfirmRequest, principal: Principal
) -> ExchangeAllowanceView:
    return take(principal, allowance_id, ExchangeAction.CONFIRM_CANCEL, Answer(remark=body.remark))
