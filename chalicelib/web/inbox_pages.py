"""What comes in: received invoices (進項發票), pending invoices (待開立發票) and MIG XML upload.

Each page calls the service its JSON route calls (chalicelib/api/received.py, pending_invoices.py,
mig.py). The merchant is always ``ctx.ubn``: an id in a path only ever names one of its own
objects, and anyone else's answers the same 404 as a missing one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from chalice.app import Blueprint, Response
from pydantic import ValidationError

from chalicelib.api import deps
from chalicelib.api.errors import file_response, status_for
from chalicelib.api.invoices import artifact_link, invoice_message
from chalicelib.api.pending_invoices import PendingRequest
from chalicelib.domain.errors import DomainError, InvalidInput, NotFound
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.pending_invoice import PENDING
from chalicelib.domain.period import Period
from chalicelib.domain.validation import invalid_input_from
from chalicelib.services.pending_invoices import not_found
from chalicelib.services.received import ReceivedQuery, buyer_view
from chalicelib.web import pending_form
from chalicelib.web.filing_pages import see_other
from chalicelib.web.i18n import error_text
from chalicelib.web.pages import PageContext, page
from chalicelib.web.rendering import taiwan_time
from chalicelib.web.track_summary import current_period, period_choices, period_title

if TYPE_CHECKING:
    # lxml and the intake load only when a message is uploaded, as the JSON route does.
    from chalicelib.documents.mig import MigMessage
    from chalicelib.services.mig_intake import MessageResult, MigIntake

bp = Blueprint(__name__)

RECEIVED_FILTERS = ("period", "date_from", "date_to", "seller_ubn", "min_total", "max_total")
RECEIVED_PAGE_SIZE = 25
_PENDING_ID = re.compile(r"pnd_[0-9a-f]{24}")


# --- received invoices (進項) ---------------------------------------------------------------------


def _received_record(ctx: PageContext, seller_ubn: str, invoice_number: str) -> InvoiceRecord:
    if seller_ubn == ctx.ubn:
        # The service lets the seller read it too; under 進項 only what was issued *to* the merchant.
        raise NotFound("INVOICE_NOT_FOUND", "No such invoice", "查無此發票")
    return deps.received_invoices().get(ctx.ubn, seller_ubn, invoice_number)


@page(bp, "/console/received", auth="merchant")
def received_list(ctx: PageContext) -> Response:
    values = {name: ctx.query.get(name, "").strip() for name in RECEIVED_FILTERS}
    cursor = ctx.query.get("cursor") or None
    return _received_page(ctx, values, cursor, _list_form(ctx, values["period"]))


def _received_page(
    ctx: PageContext, values: dict[str, str], cursor: str | None, lists: dict[str, Any], status: int = 200
) -> Response:
    asked = {name: value for name, value in values.items() if value}
    common: dict[str, Any] = {"values": values, "filtered": bool(asked), "items": [], "next_url": None, **lists}
    try:
        query = ReceivedQuery.model_validate({**asked, "limit": RECEIVED_PAGE_SIZE, "cursor": cursor})
        found = deps.received_invoices().find(ctx.ubn, query)
    except ValidationError as exc:
        return _received_refused(ctx, invalid_input_from(exc), common)
    except InvalidInput as exc:
        return _received_refused(ctx, exc, common)
    next_url = None
    if found.next_cursor:
        next_url = ctx.url("/console/received?" + urlencode({**asked, "cursor": found.next_cursor}))
    return ctx.render(
        "inbox/received.html",
        status,
        **{**common, "items": found.items, "next_url": next_url, "first_page": not cursor},
    )


def _received_refused(ctx: PageContext, error: DomainError, common: dict[str, Any]) -> Response:
    errors = ctx.field_errors(error)
    if error.field and error.field not in RECEIVED_FILTERS:
        errors = {"_": error_text(error, ctx.lang)}  # e.g. a stale cursor: start the list again
    return ctx.render("inbox/received.html", status=422, errors=errors, first_page=True, **common)


# --- purchase lists (進項存證清冊, E0502/E0503) and received allowances -----------------------------

#: The four files of the download form: which list, and as what.
LIST_FILES = {
    "invoices.xml": ("E0502", "xml"),
    "invoices.csv": ("E0502", "csv"),
    "allowances.xml": ("E0503", "xml"),
    "allowances.csv": ("E0503", "csv"),
}


def _list_form(ctx: PageContext, period_code: str, errors: dict[str, str] | None = None) -> dict[str, Any]:
    """What the download form shows: the periods to choose from and the one chosen."""
    try:
        selected = Period.parse(period_code)
    except InvalidInput:
        selected = current_period()
    return {"periods": period_choices(selected, ctx.lang), "list_period": selected.code, "list_errors": errors or {}}


@page(bp, "/console/received/lists/download", auth="merchant")
def purchase_list_download(ctx: PageContext) -> Response:
    """One purchase list of a period as a file (the form on the received pages sends here)."""
    period = ctx.query.get("period", "").strip()
    chosen = LIST_FILES.get(ctx.query.get("file", ""))
    back = ctx.query.get("from") == "allowances"
    if chosen is None:
        errors = {"file": ctx.t("請選擇要下載的清冊", "Choose the list to download")}
        return _list_refused(ctx, period, errors, 422, back)
    kind, form = chosen
    part = ctx.query.get("part", "1")
    service = deps.purchase_lists()
    try:
        if form == "csv":
            made = service.csv(ctx.ubn, period, kind)
        else:
            # Over 1000 documents a list is several files (the envelope's limit); ?part= picks one.
            made = service.xml(ctx.ubn, period, kind, int(part) if part.isdigit() else 0)
    except DomainError as exc:
        # A period refused, or one with nothing to list: told next to the period selector.
        errors = {exc.field if exc.field == "part" else "period": error_text(exc, ctx.lang)}
        return _list_refused(ctx, period, errors, 404 if isinstance(exc, NotFound) else 422, back)
    headers = {"X-List-Count": str(made.count), "X-List-Part": str(made.part), "X-List-Parts": str(made.parts)}
    return file_response(made.content, made.filename, made.media_type, headers=headers)


def _list_refused(ctx: PageContext, period: str, errors: dict[str, str], status: int, back: bool) -> Response:
    lists = _list_form(ctx, period, errors)
    if back:
        return _allowances_page(ctx, lists, status)
    return _received_page(ctx, dict.fromkeys(RECEIVED_FILTERS, ""), None, lists, status)


@page(bp, "/console/received/allowances", auth="merchant")
def received_allowances(ctx: PageContext) -> Response:
    """Allowances other merchants issued to this merchant (進項折讓), one period at a time."""
    asked = ctx.query.get("period", "").strip()
    refused = ""
    if asked:
        try:
            Period.parse(asked)
        except InvalidInput as exc:
            refused = error_text(exc, ctx.lang)  # then the current period is shown
    return _allowances_page(ctx, _list_form(ctx, asked), 422 if refused else 200, refused)


def _allowances_page(ctx: PageContext, lists: dict[str, Any], status: int, period_error: str = "") -> Response:
    period = Period.parse(lists["list_period"])
    items = deps.purchase_lists().allowances(ctx.ubn, period)
    return ctx.render(
        "inbox/received_allowances.html",
        status,
        items=items,
        period_text=period_title(period, ctx.lang),
        period_error=period_error,
        **lists,
    )


@page(bp, "/console/received/{seller_ubn}/{invoice_number}", auth="merchant")
def received_detail(ctx: PageContext, seller_ubn: str, invoice_number: str) -> Response:
    record = _received_record(ctx, seller_ubn, invoice_number)
    base = f"/console/received/{seller_ubn}/{invoice_number}"
    exchanged = record.exchange is not None
    return ctx.render(
        "inbox/received_detail.html",
        invoice=buyer_view(record),
        base=base,
        message_type="A0101" if exchanged else "F0401",
        exchange_link=f"/console/exchange/{seller_ubn}-{invoice_number}" if exchanged else None,
    )


@page(bp, "/console/received/{seller_ubn}/{invoice_number}/xml", auth="merchant")
def received_xml(ctx: PageContext, seller_ubn: str, invoice_number: str) -> Response:
    return invoice_message(_received_record(ctx, seller_ubn, invoice_number), attachment=True)


@page(bp, "/console/received/{seller_ubn}/{invoice_number}/pdf", auth="merchant")
def received_pdf(ctx: PageContext, seller_ubn: str, invoice_number: str) -> Response:
    record = _received_record(ctx, seller_ubn, invoice_number)
    kind = "a4_pdf" if ctx.query.get("layout") == "a4" else "proof_pdf"
    # The artifact is the seller's: its key is under the seller's prefix, whoever asks.
    link = artifact_link(record, str(record.seller["ubn"]), kind, ctx.query.get("download") == "1")
    return see_other(str(link.headers["Location"]))


# --- pending invoices (待開立發票) ------------------------------------------------------------------


def _pending_id(pending_id: str) -> str:
    if not _PENDING_ID.fullmatch(pending_id):
        raise not_found()
    return pending_id


@page(bp, "/console/pending", auth="merchant")
def pending_list(ctx: PageContext) -> Response:
    status = ctx.query.get("status", "")
    status = status if status in ("pending", "issued") else ""
    order_id = ctx.query.get("order_id", "").strip()
    if order_id:
        # The order id is how an ERP and a person both name it: one exact read, no list.
        found = deps.pending_invoice_service().by_order(ctx.ubn, order_id[:40])
        items = [found.view()] if found else []
        truncated = False
    else:
        listed = deps.pending_listing().find(ctx.ubn, status or None)
        items, truncated = listed.items, listed.truncated
    return ctx.render(
        "inbox/pending.html",
        items=items,
        truncated=truncated,
        values={"status": status, "order_id": order_id},
        done=ctx.query.get("done", ""),
        taipei=taiwan_time,
    )


def _new_pending_page(ctx: PageContext, form: pending_form.PendingForm | None, errors: dict[str, str]) -> Response:
    values = form.values if form else pending_form.blank_values()
    rows = form.rows if form else pending_form.DEFAULT_ROWS
    return ctx.render("inbox/pending_new.html", status=422 if errors else 200, values=values, rows=rows, errors=errors)


@page(bp, "/console/pending/new", ("GET", "POST"), auth="merchant")
def pending_new(ctx: PageContext) -> Response:
    if ctx.request.method == "GET":
        return _new_pending_page(ctx, None, {})
    form = pending_form.parse(ctx.form)
    try:
        request = PendingRequest.model_validate({"order_id": form.order_id, "invoice": form.invoice})
        pending, _created = deps.pending_invoice_service().create(ctx.ubn, request.order_id, form.invoice)
    except ValidationError as exc:
        error = invalid_input_from(exc)
        return _new_pending_page(ctx, form, {form.field_of(error.field): error_text(error, ctx.lang)})
    except NotFound:
        raise
    except DomainError as exc:
        return _new_pending_page(ctx, form, {form.field_of(exc.field): error_text(exc, ctx.lang)})
    return ctx.redirect(f"/console/pending/{pending.pending_id}?done=created")


@page(bp, "/console/pending/{pending_id}", auth="merchant")
def pending_detail(ctx: PageContext, pending_id: str) -> Response:
    pending = deps.pending_invoice_service().get(ctx.ubn, _pending_id(pending_id))
    return ctx.render(
        "inbox/pending_detail.html",
        pending=pending.view(),
        body=pending.body,
        can_change=pending.status == PENDING,
        done=ctx.query.get("done", ""),
        error="",
        taipei=taiwan_time,
    )


def _pending_refused(ctx: PageContext, pending_id: str, error: DomainError) -> Response:
    pending = deps.pending_invoice_service().get(ctx.ubn, pending_id)
    return ctx.render(
        "inbox/pending_detail.html",
        status=status_for(error),
        pending=pending.view(),
        body=pending.body,
        can_change=pending.status == PENDING,
        done="",
        error=error_text(error, ctx.lang),
        taipei=taiwan_time,
    )


@page(bp, "/console/pending/{pending_id}/issue", ("POST",), auth="merchant")
def pending_issue(ctx: PageContext, pending_id: str) -> Response:
    service = deps.pending_invoice_service()
    pending = service.get(ctx.ubn, _pending_id(pending_id))
    try:
        service.trigger(pending, actor=ctx.actor)
    except DomainError as exc:
        return _pending_refused(ctx, pending_id, exc)
    return ctx.redirect(f"/console/pending/{pending_id}?done=issued")


@page(bp, "/console/pending/{pending_id}/delete", ("POST",), auth="merchant")
def pending_delete(ctx: PageContext, pending_id: str) -> Response:
    service = deps.pending_invoice_service()
    try:
        service.delete(ctx.ubn, _pending_id(pending_id))
    except NotFound:
        raise
    except DomainError as exc:
        return _pending_refused(ctx, pending_id, exc)
    return ctx.redirect("/console/pending?done=deleted")


# --- MIG XML upload -------------------------------------------------------------------------------

MESSAGE_TYPES = ("F0401", "F0501", "F0701", "G0401", "G0501")
#: Which kind of number an accepted message's result names (an invoice has a console page).
INVOICE_MESSAGES = ("F0401", "F0501", "F0701")


def _mig_page(ctx: PageContext, **variables: Any) -> Response:
    defaults: dict[str, Any] = {
        "results": None,
        "message_type": "F0401",
        "pasted": "",
        "errors": {},
        "status": 200,
    }
    merged = {**defaults, **variables}
    status = merged.pop("status")
    return ctx.render("inbox/mig.html", status=status, message_types=MESSAGE_TYPES, **merged)


@page(bp, "/console/mig", ("GET", "POST"), auth="merchant")
def mig_upload(ctx: PageContext) -> Response:
    if ctx.request.method == "GET":
        return _mig_page(ctx)
    from chalicelib.api.mig import MAX_BYTES

    message_type = ctx.form.get("message_type")
    pasted = ctx.form.get("xml")
    upload = ctx.form.file("document")
    kept = {"message_type": message_type, "pasted": pasted}
    errors: dict[str, str] = {}
    if message_type not in MESSAGE_TYPES:
        errors["message_type"] = ctx.t("請選擇訊息類型", "Choose the message type")
    data = upload.data if upload else pasted.strip().encode("utf-8")
    if not data:
        errors["document"] = ctx.t("請選擇 XML 檔案或貼上 XML 內容", "Choose an XML file or paste the XML")
    elif len(data) > MAX_BYTES:
        errors["document"] = ctx.t("檔案過大（上限 5 MB）", "The file is too large (at most 5 MB)")
    if errors:
        return _mig_page(ctx, errors=errors, status=422, **kept)
    result, status = process_message(message_type, data, ctx.actor, ctx.ubn)
    row = _result_row(ctx, message_type, result, upload.filename if upload else ctx.t("貼上的內容", "Pasted XML"))
    return _mig_page(ctx, results=[row], status=200 if status < 400 else 422, **kept)


def process_message(message_type: str, data: bytes, actor: str, ubn: str) -> tuple[MessageResult, int]:
    """One MIG message through the intake, as ``POST /v1/mig/{type}`` does: its result and status.

    Parse errors (schema, field order) are results too: the page shows every refusal in the same
    place, naming the MIG element."""
    from chalicelib.api import mig as mig_api
    from chalicelib.services.mig_intake import rejected

    intake = mig_api.mig_intake()
    try:
        message = intake.parse(message_type, data)
    except DomainError as error:
        return rejected(None, error), status_for(error)
    try:
        return _dispatch(intake, message, ubn, actor)
    except DomainError as error:
        return rejected(mig_api.number_of(message), mig_api.mig_field(error)), status_for(error)


def _dispatch(intake: MigIntake, message: MigMessage, ubn: str, actor: str) -> tuple[MessageResult, int]:
    from chalicelib.api import mig as mig_api
    from chalicelib.documents.mig import Allowance, CancelAllowance, CancelInvoice, Invoice, VoidInvoice
    from chalicelib.services.mig_intake import MessageResult, rejected

    if isinstance(message, Invoice):
        issued = intake.f0401(ubn, message, actor=actor, voider=deps.lifecycle_service())
        accepted = MessageResult(invoice_number=issued.record.invoice_number, status="accepted")
        return accepted, 200 if issued.replayed else 201
    if isinstance(message, VoidInvoice):
        voided = intake.void_invoice(ubn, message, clock=deps.rules_clock())
        return MessageResult(invoice_number=voided, status="awaiting_replacement"), 202
    if isinstance(message, Allowance):
        allowance, replayed = intake.g0401(ubn, message, deps.allowance_service(), actor=actor)
        return MessageResult(invoice_number=allowance, status="accepted"), 200 if replayed else 201
    if isinstance(message, CancelInvoice):
        cancelled = intake.cancel_invoice(ubn, message, deps.lifecycle_service(), actor=actor)
        return MessageResult(invoice_number=cancelled, status="accepted"), 200
    if isinstance(message, CancelAllowance):
        dropped = intake.cancel_allowance(ubn, message, mig_api.cancel_allowance, actor=actor)
        return MessageResult(invoice_number=dropped, status="accepted"), 200
    # parse_xml knows only the five types the select offers
    unknown = InvalidInput("UNKNOWN_MESSAGE_TYPE", "Unknown message type", "不支援的訊息類型", "message_type")
    return rejected(None, unknown), 422


def _result_row(ctx: PageContext, message_type: str, result: MessageResult, document: str) -> dict[str, Any]:
    number = result.invoice_number
    link = ctx.url(f"/console/invoices/{number}") if number and message_type in INVOICE_MESSAGES else None
    if result.status == "rejected":
        link = None  # a refused F0401 names a number that was not issued
    reason = ctx.t(result.reason_zh or "", result.reason or "") if result.status == "rejected" else ""
    return {
        "document": document,
        "status": result.status,
        "number": number,
        "link": link,
        "field": result.field,
        "code": result.code,
        "reason": reason,
    }
