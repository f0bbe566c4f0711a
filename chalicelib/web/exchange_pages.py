"""交換發票 (B2B exchange): the to-do list (待辦事項) with a tab per side, one exchange with the
answers its viewer may give (htmx, or plain forms without JavaScript), its history and its XML.

Each page calls the service the JSON routes call (chalicelib/api/exchange.py). The merchant is
always ``ctx.ubn``: an exchange it is no party to answers the same 404 as a missing one.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ValidationError

from chalicelib.api import deps
from chalicelib.api.errors import xml_response
from chalicelib.api.exchange import (
    ExchangeCancelRequest,
    ExchangeConfirmRequest,
    ExchangeRejectRequest,
    exchange_view,
    task_view,
)
from chalicelib.domain.errors import DomainError, NotFound
from chalicelib.domain.exchange import ACTION_LABELS, ALLOWANCE_FLOW, STATE_LABELS, ExchangeAction, ExchangeState
from chalicelib.services.exchange import Answer
from chalicelib.web.exchange_allowance_form import blank_form
from chalicelib.web.invoice_pages import HISTORY_EVENTS
from chalicelib.web.pages import PageContext, page
from chalicelib.web.rendering import taiwan_time

bp = Blueprint(__name__)

TABS = ("received", "sent")
#: What the page says after an answer, by a fixed name (never text taken from the address).
DONE = {
    ExchangeAction.CONFIRM: ("已確認收受此發票（A0102）。", "You confirmed receipt of this invoice (A0102)."),
    ExchangeAction.REJECT: (
        "已退回此發票（A0301），待賣方確認。",
        "You rejected this invoice (A0301); the seller is to confirm.",
    ),
    ExchangeAction.CONFIRM_REJECT: ("已確認買方退回（A0302）。", "You confirmed the buyer's rejection (A0302)."),
    ExchangeAction.CANCEL: (
        "已送出作廢（A0201），待買方確認後生效。",
        "Cancel sent (A0201); it counts once the buyer confirms.",
    ),
    ExchangeAction.CONFIRM_CANCEL: (
        "已確認作廢（A0202），此發票已作廢。",
        "You confirmed the cancel (A0202); the invoice is cancelled.",
    ),
}
_BODIES: dict[ExchangeAction, type[BaseModel]] = {
    ExchangeAction.CONFIRM: ExchangeConfirmRequest,
    ExchangeAction.REJECT: ExchangeRejectRequest,
    ExchangeAction.CONFIRM_REJECT: ExchangeConfirmRequest,
    ExchangeAction.CANCEL: ExchangeCancelRequest,
    ExchangeAction.CONFIRM_CANCEL: ExchangeConfirmRequest,
}
_FIELDS = ("reason", "return_tax_document_number", "remark")
_STATE_CLASS = {
    ExchangeState.AWAITING_BUYER: "warn",
    ExchangeState.CONFIRMED: "ok",
    ExchangeState.REJECTED: "bad",
    ExchangeState.REJECTION_CONFIRMED: "bad",
    ExchangeState.CANCEL_REQUESTED: "warn",
    ExchangeState.CANCELLED: "bad",
}


def _step_label(ctx: PageContext, event: str) -> str:
    """A step of the exchange's history: issued, a state it led to, or one of its allowances'
    steps (交換折讓, B0101…B0202), which the invoice's history names (invoice_pages.HISTORY_EVENTS)."""
    if event == "issued":
        return ctx.t("開立", "Issued")
    state = event.removeprefix("exchange_")
    if state in {s.value for s in ExchangeState}:
        return ctx.t(*STATE_LABELS[ExchangeState(state)])
    named = HISTORY_EVENTS.get(event)
    return ctx.t(*named) if named else event


def _labels(ctx: PageContext) -> dict[str, Any]:
    return {
        "state_label": lambda state: ctx.t(*STATE_LABELS[ExchangeState(state)]),
        "state_class": lambda state: _STATE_CLASS[ExchangeState(state)],
        "action_label": lambda action: ctx.t(*ACTION_LABELS[ExchangeAction(action)]),
        "role_label": lambda role: ctx.t("賣方", "Seller") if role == "seller" else ctx.t("買方", "Buyer"),
        "step_label": lambda event: _step_label(ctx, event),
        "when": taiwan_time,
    }


@page(bp, "/console/exchange", auth="merchant")
def exchange_list(ctx: PageContext) -> Response:
    """The to-do list: 收到的 (I am the buyer) and 開出的 (I am the seller), what waits on me first."""
    tab = ctx.query.get("tab", "received")
    if tab not in TABS:
        tab = "received"
    now = deps.rules_clock().now()
    items = [task_view(task, now) for task in deps.exchange_service().inbox(ctx.ubn)]
    sides = {
        "received": [item for item in items if item.role == "buyer"],
        "sent": [item for item in items if item.role == "seller"],
    }
    turns = {side: sum(1 for item in shown if item.your_turn) for side, shown in sides.items()}
    return ctx.render("exchange/list.html", tab=tab, items=sides[tab], turns=turns, **_labels(ctx))


def _detail(
    ctx: PageContext,
    exchange_id: str,
    *,
    status: int = 200,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict[str, str]] | None = None,
    done: str = "",
    allowance_values: dict[str, str] | None = None,
    allowance_errors: dict[str, str] | None = None,
) -> Response:
    """The exchanged invoice's page: its state and answers, and its allowances by exchange with the
    form either party issues one with (``allowance_*``: that form as sent, and its errors)."""
    found = deps.exchange_service().get(ctx.ubn, exchange_id)
    shown = exchange_view(found)
    template = "exchange/_panel.html" if ctx.is_htmx else "exchange/detail.html"
    allowances = deps.exchange_allowance_service().of_invoice(ctx.ubn, exchange_id)
    return ctx.render(
        template,
        status=status,
        exchange=shown,
        record=found.record,
        base=f"/console/exchange/{shown.id}",
        errors=errors or {},
        values=values or {},
        done=done,
        allowances=[(one, ctx.t(*ALLOWANCE_FLOW.label(one.exchange.state))) for one in allowances],
        can_allow=found.exchange.state is ExchangeState.CONFIRMED and found.record.status == "issued",
        allowance_values=allowance_values or blank_form(),
        allowance_errors=allowance_errors or {},
        **_labels(ctx),
    )


@page(bp, "/console/exchange/{exchange_id}", auth="merchant")
def exchange_detail(ctx: PageContext, exchange_id: str) -> Response:
    done = ctx.query.get("done", "")
    said = DONE.get(ExchangeAction(done)) if done in {a.value for a in ExchangeAction} else None
    return _detail(ctx, exchange_id, done=ctx.t(*said) if said else "")


@page(bp, "/console/exchange/{exchange_id}/{action}", ("POST",), auth="merchant")
def exchange_answer(ctx: PageContext, exchange_id: str, action: str) -> Response:
    """One answer. With htmx the panel comes back in place (its errors next to the fields, 422);
    without, the browser is sent back to the exchange, which says what was done."""
    if action not in {a.value for a in ExchangeAction}:
        raise NotFound("EXCHANGE_NOT_FOUND", "No such exchange", "查無此交換發票")
    step = ExchangeAction(action)
    typed = {name: ctx.form.get(name).strip() for name in _FIELDS if name in ctx.form}
    try:
        body = _BODIES[step].model_validate({k: v for k, v in typed.items() if v})
        answer = Answer(**{name: getattr(body, name, None) for name in _FIELDS})
        deps.exchange_service().take(ctx.ubn, exchange_id, step, answer, actor=ctx.actor)
    except (ValidationError, DomainError) as error:
        if isinstance(error, NotFound):
            raise
        return _detail(ctx, exchange_id, status=422, errors={action: ctx.field_errors(error)}, values={action: typed})
    if ctx.is_htmx:
        return _detail(ctx, exchange_id, done=ctx.t(*DONE[step]))
    return ctx.redirect(f"/console/exchange/{exchange_id}?done={step.value}")


@page(bp, "/console/exchange/{exchange_id}/messages/{message_type}", auth="merchant")
def exchange_message(ctx: PageContext, exchange_id: str, message_type: str) -> Response:
    body, name = deps.exchange_service().message(ctx.ubn, exchange_id, message_type)
    return xml_response(body, name, attachment=True)
