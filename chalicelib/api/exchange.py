"""B2B exchange (交換) routes: the to-do list (待辦事項), one exchange, its MIG messages, the answers.

An exchange's id is ``<seller UBN>-<invoice number>`` (``12345675-AB12345678``), the same for both
parties. Only its seller and its buyer see it; anyone else, and any malformed id, gets the 404 of
a missing one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api import deps
from chalicelib.api.errors import xml_response
from chalicelib.api.routing import operation
from chalicelib.domain.exchange import ACTION_LABELS, STATE_LABELS, ExchangeAction, ExchangeTask, Party
from chalicelib.domain.fields import printable
from chalicelib.services.exchange import Answer, Exchange
from chalicelib.services.exchange_documents import message_types
from chalicelib.services.principal import Principal
from chalicelib.services.received import buyer_view

bp = Blueprint(__name__)
TAG = "B2B exchange"

_ID_DOC = "``<seller UBN>-<invoice number>``, e.g. 12345675-AB12345678"

_TASK_EXAMPLE: dict[str, Any] = {
    "id": "12345675-AB12345678",
    "kind": "invoice",
    "role": "buyer",
    "state": "awaiting_buyer",
    "state_label": "Awaiting the buyer",
    "state_label_zh": "待買方確認",
    "waiting_on": "buyer",
    "your_turn": True,
    "actions": ["confirm", "reject"],
    "deadline": "2026-12-14T10:00:00+08:00",
    "overdue": False,
    "counterpart": {"ubn": "12345675", "name": "賣方股份有限公司"},
    "invoice_number": "AB12345678",
    "invoice_date": "2026-12-07",
    "total_amount": 1050,
    "links": {"self": "/v1/exchange/12345675-AB12345678"},
}


class ExchangeTaskView(BaseModel):
    """One open exchange in the caller's to-do list."""

    model_config = ConfigDict(json_schema_extra={"examples": [_TASK_EXAMPLE]})

    id: str = Field(default="", description=_ID_DOC + "; an allowance's: <seller UBN>-ALW-<allowance number>")
    kind: str = Field(default="invoice", description="invoice, or allowance (an exchanged allowance, B0101)")
    role: str = Field(default="", description="seller or buyer: which party the caller is")
    state: str = Field(
        default="",
        description="awaiting_buyer, rejected or cancel_requested (the open states), awaiting_counterpart",
    )
    state_label: str = ""
    state_label_zh: str = ""
    waiting_on: str = Field(default="", description="seller or buyer: who answers next")
    your_turn: bool = Field(default=False, description="The caller is the one to answer")
    actions: list[str] = Field(default_factory=list, description="What the caller may do now (POST …/{action})")
    deadline: str = Field(default="", description="When the answer is due (+08:00); ⚠️ 7 days, see docs/exchange.md")
    overdue: bool = False
    counterpart: dict[str, Any] = Field(default_factory=dict)
    invoice_number: str = ""
    invoice_date: str = ""
    total_amount: int = Field(default=0, description="The invoice's total; an allowance's own, tax included")
    allowance_number: str | None = Field(default=None, description="An allowance's number (kind allowance)")
    issuer: str = Field(default="seller", description="Who issued the document: seller or buyer")
    links: dict[str, str] = Field(default_factory=dict)


class ExchangeInbox(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_TASK_EXAMPLE]}]})

    items: list[ExchangeTaskView] = Field(default_factory=list)


class ExchangeMessageLink(BaseModel):
    type: str = Field(default="", description="A0101, A0102, A0201, A0202, A0301 or A0302")
    link: str = ""


class ExchangeStep(BaseModel):
    at: str = ""
    event: str = Field(default="", description="issued or exchange_<state>, e.g. exchange_confirmed")
    by: str = Field(default="", description="seller or buyer")
    message: str = ""
    reason: str | None = None
    remark: str | None = None


_VIEW_EXAMPLE: dict[str, Any] = {
    **{k: v for k, v in _TASK_EXAMPLE.items() if k not in ("invoice_number", "invoice_date", "total_amount")},
    "invoice": {"invoice_number": "AB12345678", "invoice_date": "2026-12-07", "status": "issued"},
    "messages": [{"type": "A0101", "link": "/v1/exchange/12345675-AB12345678/messages/A0101"}],
    "steps": [{"at": "2026-12-07T10:00:00+08:00", "event": "issued", "by": "seller", "message": "A0101"}],
}


class ExchangeView(BaseModel):
    """One exchanged invoice as the caller (its seller or its buyer) sees it."""

    model_config = ConfigDict(json_schema_extra={"examples": [_VIEW_EXAMPLE]})

    id: str = Field(default="", description=_ID_DOC)
    kind: str = "invoice"
    role: str = ""
    state: str = Field(
        default="",
        description="awaiting_buyer, confirmed, rejected, rejection_confirmed, cancel_requested or cancelled",
    )
    state_label: str = ""
    state_label_zh: str = ""
    waiting_on: str | None = Field(default=None, description="seller or buyer; null once settled")
    your_turn: bool = False
    actions: list[str] = Field(default_factory=list)
    deadline: str | None = None
    overdue: bool = False
    counterpart: dict[str, Any] = Field(default_factory=dict)
    invoice: dict[str, Any] = Field(default_factory=dict, description="The invoice as its buyer sees it")
    messages: list[ExchangeMessageLink] = Field(default_factory=list, description="The MIG messages that exist")
    steps: list[ExchangeStep] = Field(default_factory=list, description="What each party did, oldest first")
    links: dict[str, str] = Field(default_factory=dict)


Remark = Annotated[str, *printable(200, min_length=1)]
Reason = Annotated[str, *printable(20, min_length=1)]


class ExchangeConfirmRequest(BaseModel):
    """A0102 (confirm receipt), A0202 (confirm a cancel) or A0302 (confirm a rejection); send ``{}``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"remark": "已收到"}]})

    remark: Remark | None = Field(default=None, description="MIG Remark, at most 200 characters")


class ExchangeRejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "品項與訂單不符"}]})

    reason: Reason = Field(description="退回原因 (MIG RejectReason), 1-20 characters")
    remark: Remark | None = None


class ExchangeCancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "訂單取消"}]})

    reason: Reason = Field(description="作廢原因 (MIG CancelReason), 1-20 characters")
    return_tax_document_number: Annotated[str, *printable(60, min_length=1)] | None = Field(
        default=None, description="專案作廢核准文號; needed after the filing deadline"
    )
    remark: Remark | None = None


def task_view(task: ExchangeTask, now: datetime) -> ExchangeTaskView:
    from chalicelib.domain.exchange import FLOWS, actions_for

    flow = FLOWS[task.kind]
    zh, en = flow.label(task.state)
    is_seller = task.role is Party.SELLER
    issuer = task.issuer or Party.SELLER
    path = "/v1/exchange/allowances" if task.kind == "allowance" else "/v1/exchange"
    return ExchangeTaskView(
        id=task.id,
        kind=task.kind,
        role=task.role.value,
        state=task.state.value,
        state_label=en,
        state_label_zh=zh,
        waiting_on=task.waiting_on.value,
        your_turn=task.waiting_on is task.role,
        actions=[a.value for a in actions_for(flow, task.state, task.role, issuer)],
        deadline=task.deadline,
        overdue=now > datetime.fromisoformat(task.deadline),
        counterpart={
            "ubn": task.buyer_ubn if is_seller else task.seller_ubn,
            "name": task.buyer_name if is_seller else task.seller_name,
        },
        invoice_number=task.invoice_number,
        invoice_date=task.invoice_date,
        total_amount=task.total_amount,
        allowance_number=task.allowance_number,
        issuer=issuer.value,
        links={"self": f"{path}/{task.id}"},
    )


def exchange_view(found: Exchange) -> ExchangeView:
    exchange = found.exchange
    record = found.record
    zh, en = STATE_LABELS[exchange.state]
    base = f"/v1/exchange/{found.id}"
    waiting = exchange.waiting_on
    steps = []
    for entry in record.history:
        if entry.event == "issued" or entry.event.startswith("exchange_"):
            detail = entry.detail
            steps.append(
                ExchangeStep(
                    at=entry.at,
                    event=entry.event,
                    by=str(detail.get("by") or Party.SELLER.value),
                    message=str(detail.get("message") or ("A0101" if entry.event == "issued" else "")),
                    reason=detail.get("reason"),
                    remark=detail.get("remark"),
                )
            )
    links = {"self": base}
    if found.party is Party.SELLER:
        links["invoice"] = f"/v1/invoices/{record.invoice_number}"
    else:
        links["invoice"] = f"/v1/received-invoices/{record.seller['ubn']}/{record.invoice_number}"
    links |= {action.value: f"{base}/{action.value}" for action in found.actions}
    return ExchangeView(
        id=found.id,
        role=found.party.value,
        state=exchange.state.value,
        state_label=en,
        state_label_zh=zh,
        waiting_on=waiting.value if waiting else None,
        your_turn=waiting is found.party,
        actions=[a.value for a in found.actions],
        deadline=exchange.deadline,
        overdue=found.overdue,
        counterpart=found.counterpart,
        invoice=buyer_view(record).model_dump(mode="json", exclude={"links"}),
        messages=[ExchangeMessageLink(type=name, link=f"{base}/messages/{name}") for name in message_types(record)],
        steps=steps,
        links=links,
    )


@operation(
    bp,
    "/v1/exchange/inbox",
    summary="The to-do list (待辦事項): open exchanges, what waits on you first, each with its deadline",
    description=(
        "As buyer: invoices awaiting your confirmation (confirm or reject) and cancels awaiting your "
        "confirmation; as seller: rejections awaiting your confirmation, and what waits on your buyers. "
        "Either way: exchanged allowances (kind allowance, B0101) the other party issued, awaiting your "
        "confirmation (B0102) or that of their cancel (B0202), and yours awaiting theirs. "
        "A settled exchange (confirmed, rejection confirmed, cancel confirmed) leaves the list."
    ),
    tag=TAG,
    response=ExchangeInbox,
    auth="merchant",
    scope="invoices:read",
)
def inbox(principal: Principal) -> ExchangeInbox:
    now = deps.rules_clock().now()
    return ExchangeInbox(items=[task_view(t, now) for t in deps.exchange_service().inbox(principal.ubn)])


@operation(
    bp,
    "/v1/exchange/{exchange_id}",
    summary="One exchanged invoice: its state, who answers next and by when, its messages and steps",
    tag=TAG,
    response=ExchangeView,
    auth="merchant",
    scope="invoices:read",
    errors=(404,),
)
def get_exchange(exchange_id: str, principal: Principal) -> ExchangeView:
    return exchange_view(deps.exchange_service().get(principal.ubn, exchange_id))


@operation(
    bp,
    "/v1/exchange/{exchange_id}/messages/{message_type}",
    summary="One MIG 4.1 message of an exchange (A0101, A0102, A0201, A0202, A0301, A0302) as XML",
    description="Only the messages that exist for the exchange (its `messages`); another answers 404.",
    tag=TAG,
    auth="merchant",
    scope="invoices:read",
    response_content_type="application/xml",
    errors=(404,),
)
def exchange_message(exchange_id: str, message_type: str, principal: Principal) -> Response:
    body, name = deps.exchange_service().message(principal.ubn, exchange_id, message_type)
    return xml_response(body, name)


def take(principal: Principal, exchange_id: str, action: ExchangeAction, answer: Answer) -> ExchangeView:
    found = deps.exchange_service().take(principal.ubn, exchange_id, action, answer, actor=principal.actor)
    return exchange_view(found)


_STEP_ERRORS = (400, 403, 404, 409, 422)


def _summary(action: ExchangeAction, message: str, who: str) -> str:
    return f"{ACTION_LABELS[action][1]} ({ACTION_LABELS[action][0]}, {message}); {who} only"


@operation(
    bp,
    "/v1/exchange/{exchange_id}/confirm",
    "POST",
    rate="issue",
    summary=_summary(ExchangeAction.CONFIRM, "A0102", "the buyer")
    + ": the invoice then counts on your input side (進項)",
    tag=TAG,
    body=ExchangeConfirmRequest,
    response=ExchangeView,
    auth="merchant",
    scope="invoices:write",
    errors=_STEP_ERRORS,
)
def confirm(exchange_id: str, body: ExchangeConfirmRequest, principal: Principal) -> ExchangeView:
    return take(principal, exchange_id, ExchangeAction.CONFIRM, Answer(remark=body.remark))


@operation(
    bp,
    "/v1/exchange/{exchange_id}/reject",
    "POST",
    rate="issue",
    summary=_summary(ExchangeAction.REJECT, "A0301", "the buyer")
    + ", with a reason: the invoice then counts on neither side",
    tag=TAG,
    body=ExchangeRejectRequest,
    response=ExchangeView,
    auth="merchant",
    scope="invoices:write",
    errors=_STEP_ERRORS,
)
def reject(exchange_id: str, body: ExchangeRejectRequest, principal: Principal) -> ExchangeView:
    return take(principal, exchange_id, ExchangeAction.REJECT, Answer(reason=body.reason, remark=body.remark))


@operation(
    bp,
    "/v1/exchange/{exchange_id}/confirm-reject",
    "POST",
    rate="issue",
    summary=_summary(ExchangeAction.CONFIRM_REJECT, "A0302", "the seller"),
    tag=TAG,
    body=ExchangeConfirmRequest,
    response=ExchangeView,
    auth="merchant",
    scope="invoices:write",
    errors=_STEP_ERRORS,
)
def confirm_reject(exchange_id: str, body: ExchangeConfirmRequest, principal: Principal) -> ExchangeView:
    return take(principal, exchange_id, ExchangeAction.CONFIRM_REJECT, Answer(remark=body.remark))


@operation(
    bp,
    "/v1/exchange/{exchange_id}/cancel",
    "POST",
    rate="issue",
    summary=_summary(ExchangeAction.CANCEL, "A0201", "the seller")
    + ": the invoice is cancelled only when the buyer confirms (confirm-cancel)",
    tag=TAG,
    body=ExchangeCancelRequest,
    response=ExchangeView,
    auth="merchant",
    scope="invoices:write",
    errors=_STEP_ERRORS,
)
def cancel(exchange_id: str, body: ExchangeCancelRequest, principal: Principal) -> ExchangeView:
    answer = Answer(reason=body.reason, remark=body.remark, return_tax_document_number=body.return_tax_document_number)
    return take(principal, exchange_id, ExchangeAction.CANCEL, answer)


@operation(
    bp,
    "/v1/exchange/{exchange_id}/confirm-cancel",
    "POST",
    rate="issue",
    summary=_summary(ExchangeAction.CONFIRM_CANCEL, "A0202", "the buyer")
    + ": the invoice is then cancelled on both sides",
    tag=TAG,
    body=ExchangeConfirmRequest,
    response=ExchangeView,
    auth="merchant",
    scope="invoices:write",
    errors=_STEP_ERRORS,
)
def confirm_cancel(exchange_id: str, body: ExchangeConfirmRequest, principal: Principal) -> ExchangeView:
    return take(principal, exchange_id, ExchangeAction.CONFIRM_CANCEL, Answer(remark=body.remark))
