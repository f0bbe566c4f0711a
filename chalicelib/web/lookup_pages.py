"""發票查詢 for buyers (no sign-in): ``/lookup``, a GET form and its result, as the link in the
invoice mail opens it.

It asks the service the API's ``GET /v1/public/invoices/lookup`` asks, with the same query model
and the same limits (per client IP, and per invoice number or seller + order id whoever asks). The
page is stateless: it reads no session and sets no CSRF cookie, since nothing on it acts for
anyone. Anything that does not match gets one neutral answer (404), whatever was wrong.
"""

from __future__ import annotations

from chalice.app import Blueprint, Response
from pydantic import ValidationError

from chalicelib.api import rate_limits
from chalicelib.api.public_invoices import InvoiceLookupQuery, look_up
from chalicelib.domain.errors import DomainError, NotFound, RateLimited
from chalicelib.web.i18n import error_text
from chalicelib.web.pages import PageContext, page

bp = Blueprint(__name__)

FIELDS = ("invoice_number", "random_number", "invoice_date", "seller_ubn", "order_id", "email")
_ORDER_FIELDS = FIELDS[3:]


@page(bp, "/lookup", auth="public", stateless=True)
def lookup_page(ctx: PageContext) -> Response:
    values = {name: ctx.query.get(name, "")[:254] for name in FIELDS}
    asked = {name: value for name, value in values.items() if value.strip()}
    by_order = ctx.query.get("by") == "order" or (
        any(name in asked for name in _ORDER_FIELDS) and "invoice_number" not in asked
    )
    if not asked:
        return ctx.render("lookup/page.html", values=values, by_order=by_order, errors={}, invoice=None)
    status, headers, errors, invoice = 200, {}, {}, None
    try:
        rate_limits.check_public(str(ctx.source().get("ip") or ""), "lookup")
        query = InvoiceLookupQuery.model_validate(asked)
        rate_limits.check_account(query.subject(), "lookup")
        invoice = look_up(query)
    except RateLimited as exc:
        status, headers, errors = 429, {"Retry-After": str(exc.retry_after)}, {"_": error_text(exc, ctx.lang)}
    except NotFound as exc:
        status, errors = 404, {"_": error_text(exc, ctx.lang)}
    except (ValidationError, DomainError) as exc:
        status, errors = 422, ctx.field_errors(exc)
    return ctx.render(
        "lookup/page.html",
        status=status,
        headers=headers,
        values=values,
        by_order=by_order,
        errors=errors,
        invoice=invoice,
    )
