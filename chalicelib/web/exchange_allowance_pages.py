"""Allowances by B2B exchange (交換折讓) in the console: on an exchanged invoice's page either party
issues one (B0101), and on the allowance's page each party finds the answers it may give (B0102
confirm, B0201 cancel, B0202 confirm the cancel), over the same use case as the JSON routes
(chalicelib/api/exchange_allowances.py).

The exchanged invoice's page (web/exchange_pages.py) includes the allowance section
(exchange/_allowances.html) and its form.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api import deps
from chalicelib.api.errors import status_for, xml_response
from chalicelib.domain.errors import DomainError, NotFound
from chalicelib.domain.exchange import ALLOWANCE_FLOW, ExchangeAction, Party
from chalicelib.services.exchange import Answer
from chalicelib.services.exchange_allowance_documents import message_types
from chalicelib.web.exchange_allowance_form import FORM_FIELDS
from chalicelib.web.exchange_pages import _detail as exchange_page
from chalicelib.web.i18n import error_text
from chalicelib.web.pages import PageContext, page

bp = Blueprint(__name__)

_DONE = {
    "issued": ("折讓證明單已開立，待對方確認。", "The allowance was issued; it awaits the other party."),
    "confirm": ("已確認折讓證明單。", "The allowance is confirmed."),
    "cancel": ("已送出作廢，待對方確認。", "The cancel was sent; it awaits the other party."),
    "confirm-cancel": ("已確認作廢。", "The cancel is confirmed."),
}


def _done(ctx: PageContext) -> str:
    done = _DONE.get(ctx.query.get("done", ""))
    return ctx.t(*done) if done else ""


def _body(values: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "items": [
            {
                "description": values["items[0].description"],
                "quantity": values["items[0].quantity"],
                "unit_price": values["items[0].unit_price"],
                "tax_type": values["items[0].tax_type"] or "1",
            }
        ],
        "prices_include_tax": values["prices_include_tax"] == "true",
    }
    for name in ("allowance_number", "remark"):
        if values[name]:
            body[name] = values[name]
    return body


@page(bp, "/console/exchange/{exchange_id}/allowances", ("POST",), auth="merchant")
def issue_allowance(ctx: PageContext, exchange_id: str) -> Response:
    values = {name: (ctx.form.get(name) or "").strip() for name in FORM_FIELDS}
    service = deps.exchange_allowance_service()
    try:
        issued = service.issue(ctx.ubn, exchange_id, _body(values), actor=ctx.actor)
    except NotFound:
        raise
    except DomainError as exc:
        errors = ctx.field_errors(exc)
        if not set(errors) <= {*FORM_FIELDS, "_"}:
            errors = {"_": error_text(exc, ctx.lang)}  # e.g. the invoice no longer takes one
        return exchange_page(ctx, exchange_id, status=status_for(exc), allowance_values=values, allowance_errors=errors)
    return ctx.redirect(f"/console/exchange/allowances/{issued.id}?done=issued")


def _allowance_page(ctx: PageContext, allowance_id: str, error: DomainError | None = None) -> Response:
    found = deps.exchange_allowance_service().get(ctx.ubn, allowance_id)
    exchange = found.exchange
    return ctx.render(
        "exchange/allowance.html",
        status=status_for(error) if error else 200,
        found=found,
        record=found.record,
        state_label=ctx.t(*ALLOWANCE_FLOW.label(exchange.state)),
        issuer_label=ctx.t("賣方", "the seller") if found.issuer is Party.SELLER else ctx.t("買方", "the buyer"),
        actions=[action.value for action in found.actions],
        messages=message_types(found.record),
        base=f"/console/exchange/allowances/{allowance_id}",
        error=error_text(error, ctx.lang) if error else "",
        done=_done(ctx),
    )


@page(bp, "/console/exchange/allowances/{allowance_id}", auth="merchant")
def allowance_detail(ctx: PageContext, allowance_id: str) -> Response:
    return _allowance_page(ctx, allowance_id)


@page(bp, "/console/exchange/allowances/{allowance_id}/messages/{message_type}", auth="merchant")
def allowance_message(ctx: PageContext, allowance_id: str, message_type: str) -> Response:
    body, name = deps.exchange_allowance_service().message(ctx.ubn, allowance_id, message_type)
    return xml_response(body, name, attachment=True)


def _take(ctx: PageContext, allowance_id: str, action: ExchangeAction) -> Response:
    reason = (ctx.form.get("reason") or "").strip() or None
    remark = (ctx.form.get("remark") or "").strip() or None
    try:
        deps.exchange_allowance_service().take(
            ctx.ubn, allowance_id, action, Answer(reason=reason, remark=remark), actor=ctx.actor
        )
    except NotFound:
        raise
    except DomainError as exc:
        return _allowance_page(ctx, allowance_id, exc)
    return ctx.redirect(f"/console/exchange/allowances/{allowance_id}?done={action.value}")


@page(bp, "/console/exchange/allowances/{allowance_id}/confirm", ("POST",), auth="merchant")
def confirm(ctx: PageContext, allowance_id: str) -> Response:
    return _take(ctx, allowance_id, ExchangeAction.CONFIRM)


@page(bp, "/console/exchange/allowances/{allowance_id}/cancel", ("POST",), auth="merchant")
def cancel(ctx: PageContext, allowance_id: str) -> Response:
    return _take(ctx, allowance_id, ExchangeAction.CANCEL)


@page(bp, "/console/exchange/allowances/{allowance_id}/confirm-cancel", ("POST",), auth="merchant")
def confirm_cancel(ctx: PageContext, allowance_id: str) -> Response:
    return _take(ctx, allowance_id, ExchangeAction.CONFIRM_CANCEL)
