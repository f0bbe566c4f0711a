"""發票查詢 (invoices): find, read, download, and everything after issuing.

The list is a GET form over the JSON list route's own query model (``InvoiceQuery``), so a search
is a link that can be shared. Every page of one invoice reads it from the signed-in merchant's own
partition: another merchant's number is simply not found (404), for the page, every download and
every action. Each change (cancel 作廢, void and re-issue 註銷重開, allowance 折讓, allowance cancel,
send again) is a page of its own that says what will happen and by when, and a POST with CSRF.

Downloads answer like the API: the PDFs with a redirect to a short-lived S3 link (made first when
the outbox has not yet), the XML directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from chalice.app import Blueprint, Response
from pydantic import ValidationError

from chalicelib.api import deps
from chalicelib.api.invoice_lifecycle import InvoiceCancelRequest, InvoiceNotifyRequest, InvoiceVoidRequest
from chalicelib.api.invoices import PdfQuery, artifact_link, invoice_message
from chalicelib.domain.allowance_record import (
    ALLOWANCE_NUMBER_PATTERN,
    AllowanceRecord,
    AllowanceVoidRequest,
    CancelRequest,
)
from chalicelib.domain.errors import DomainError, NotFound
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.status import VOID_WINDOW, cancel_deadline
from chalicelib.domain.validation import invalid_input_from
from chalicelib.services.invoice_lifecycle import Recipients
from chalicelib.services.invoice_query import InvoiceQuery, find_invoices
from chalicelib.web.invoice_forms import (
    CARRIER_KINDS,
    STATUS_LABELS,
    AllowanceForm,
    Delivery,
    field_label,
    new_form_key,
    remap_items,
    valid_form_key,
)
from chalicelib.web.pages import PageContext, page

bp = Blueprint(__name__)

_NUMBER = re.compile(r"[A-Z]{2}[0-9]{8}")
_ALLOWANCE = re.compile(ALLOWANCE_NUMBER_PATTERN)
#: The list route's filters, in the order the form shows them.
FILTERS = (
    "period",
    "date_from",
    "date_to",
    "buyer_ubn",
    "status",
    "carrier_id",
    "min_total",
    "max_total",
    "order_id",
    "has_allowances",
    "voided",
    "limit",
)
PAGE_SIZES = (("20", "20"), ("50", "50"), ("100", "100"))
# What a page says after a change, by a fixed name (never text taken from the address).
DONE = {
    "issued": ("發票已開立。", "The invoice was issued."),
    "cancelled": ("發票已作廢。", "The invoice was cancelled."),
    "voided": ("發票已註銷並以相同號碼重新開立。", "The invoice was voided and re-issued under the same number."),
    "allowance": ("折讓單已開立。", "The allowance was issued."),
    "allowance_cancelled": ("折讓單已作廢。", "The allowance was cancelled."),
    "allowance_voided": (
        "折讓單已註銷並以相同號碼重新開立。",
        "The allowance was voided and re-issued under the same number.",
    ),
    "notified": ("已排入重新寄送。", "Sending again is queued."),
}
HISTORY_EVENTS = {
    "issued": ("開立", "Issued"),
    "cancelled": ("作廢", "Cancelled"),
    "voided": ("註銷", "Voided"),
    "reissued": ("重新開立", "Re-issued"),
    "notified": ("重新寄送", "Sent again"),
    "allowance": ("開立折讓", "Allowance"),
    "allowance_cancelled": ("折讓作廢", "Allowance cancelled"),
    "allowance_voided": ("折讓註銷", "Allowance voided"),
    # B2B exchange (交換): each step, named by the state it led to
    "exchange_confirmed": ("買方確認收受（A0102）", "Confirmed by the buyer (A0102)"),
    "exchange_rejected": ("買方退回（A0301）", "Rejected by the buyer (A0301)"),
    "exchange_rejection_confirmed": ("賣方確認退回（A0302）", "Rejection confirmed by the seller (A0302)"),
    "exchange_cancel_requested": ("賣方要求作廢（A0201）", "Cancel asked by the seller (A0201)"),
    "exchange_cancelled": ("買方確認作廢（A0202）", "Cancel confirmed by the buyer (A0202)"),
    # Allowances by exchange (交換折讓, services/exchange_allowances.py) on an exchanged invoice
    "exchange_allowance": ("交換折讓開立（B0101）", "Allowance by exchange issued (B0101)"),
    "exchange_allowance_confirmed": ("交換折讓已確認（B0102）", "Allowance by exchange confirmed (B0102)"),
    "exchange_allowance_cancel_requested": ("交換折讓申請作廢（B0201）", "Allowance by exchange: cancel asked (B0201)"),
    "exchange_allowance_cancelled": ("交換折讓作廢已確認（B0202）", "Allowance by exchange cancelled (B0202)"),
}
_ACTORS = {"merchant": ("網頁", "Console"), "api_key": ("API 金鑰", "API key"), "staff": ("稽徵機關", "Tax office")}
_HISTORY_DETAILS = ("reason", "return_tax_document_number", "allowance_number", "amount", "channels", "channel")


# --- reading one invoice --------------------------------------------------------------------------


def own_invoice(ctx: PageContext, number: str) -> InvoiceRecord:
    """The signed-in merchant's invoice ``number``; anything else (another merchant's, a malformed
    number) is not found."""
    record = deps.invoices().get(ctx.ubn, number) if _NUMBER.fullmatch(number) else None
    if record is None:
        raise NotFound("INVOICE_NOT_FOUND", "No such invoice", "查無此發票")
    return record


def _now() -> datetime:
    # The clock the lifecycle rules are judged by, so what the page says is what the service does.
    return deps.rules_clock().now().astimezone(TAIWAN_TZ)


def when(value: datetime | str | None) -> str:
    """A moment as merchants read it: Taiwan time, to the minute."""
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(TAIWAN_TZ).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Terms:
    """The deadlines of the invoice's changes, read from the same rules the lifecycle service applies."""

    cancel_by: date
    needs_approval: bool
    filed: bool
    void_by: datetime
    can_void: bool
    allowance_remaining: int


def terms_of(ctx: PageContext, record: InvoiceRecord) -> Terms:
    period = Period.parse(record.period)
    now = _now()
    filed = deps.filings().is_filed(ctx.ubn, record.period)
    # ensure_can_void: within 48 h of issue, and while the invoice's period is still the current one.
    period_ends = datetime.combine(period.last_day + timedelta(days=1), time(0), TAIWAN_TZ)
    void_by = min(record.issued_at.astimezone(TAIWAN_TZ) + VOID_WINDOW, period_ends)
    remaining = record.amounts.total_amount if record.allowance_remaining is None else record.allowance_remaining
    cancel_by = cancel_deadline(period, deps.working_calendar())
    return Terms(
        cancel_by=cancel_by,
        needs_approval=filed or now.date() > cancel_by,
        filed=filed,
        void_by=void_by,
        can_void=now <= void_by,
        allowance_remaining=remaining,
    )


def allowances_of(ctx: PageContext, record: InvoiceRecord) -> list[AllowanceRecord]:
    """The allowances that name this invoice, from its history (newest last)."""
    numbers = list(
        dict.fromkeys(
            str(entry.detail.get("allowance_number"))
            for entry in record.history
            if entry.event == "allowance" and entry.detail.get("allowance_number")
        )
    )
    service = deps.allowance_service()
    found = []
    for number in numbers:
        try:
            found.append(service.get(ctx.ubn, number))
        except NotFound:
            continue
    return found


def _history(ctx: PageContext, record: InvoiceRecord) -> list[dict[str, Any]]:
    rows = []
    for entry in record.history:
        zh, en = HISTORY_EVENTS.get(entry.event, (entry.event, entry.event))
        details = [
            (key, ", ".join(map(str, value)) if isinstance(value, list) else str(value))
            for key, value in entry.detail.items()
            if key in _HISTORY_DETAILS and value not in (None, "")
        ]
        kind, _, who = entry.actor.partition(":")
        by = _ACTORS.get(kind)
        actor = f"{ctx.t(*by)} {who}" if by else entry.actor
        rows.append({"at": when(entry.at), "event": ctx.t(zh, en), "actor": actor, "details": details})
    return rows


def _qr_images(record: InvoiceRecord) -> tuple[str, str] | None:
    """Both QR codes of the proof as images, drawn as the proof PDF draws them."""
    if record.status != "issued":
        return None
    from chalicelib.documents.pdf._common import qr_symbols

    left, right = qr_symbols(record.qr_left, record.qr_right)
    return left.svg_data_uri(scale=3, border=2), right.svg_data_uri(scale=3, border=2)


def _labels(ctx: PageContext) -> dict[str, Any]:
    return {
        "status_label": lambda status: ctx.t(*STATUS_LABELS.get(status, (status, status, ""))[:2]),
        "status_class": lambda status: STATUS_LABELS.get(status, ("", "", ""))[2],
        "when": when,
        "label": lambda name: field_label(name, ctx.t),
    }


# --- the list -------------------------------------------------------------------------------------


def _filters(ctx: PageContext) -> dict[str, str]:
    return {name: ctx.query[name].strip() for name in (*FILTERS, "cursor") if ctx.query.get(name, "").strip()}


@page(bp, "/console/invoices", auth="merchant")
def invoice_list(ctx: PageContext) -> Response:
    given = _filters(ctx)
    errors: dict[str, str] = {}
    items: list[Any] = []
    next_link = None
    if given.get("date_from", "") > given.get("date_to", "~") and given.get("date_to"):
        errors["date_to"] = ctx.t("結束日期不可早於開始日期", "The end date is before the start date")
    else:
        try:
            query = InvoiceQuery.model_validate(given)
            found = find_invoices(ctx.ubn, query, deps.cursor_codec(), deps.invoice_search())
            items = found.items
            if found.next_cursor:
                kept = {k: v for k, v in given.items() if k != "cursor"}
                next_link = "/console/invoices?" + urlencode({**kept, "cursor": found.next_cursor})
        except (ValidationError, DomainError) as error:
            errors = ctx.field_errors(error)
    first_link = "/console/invoices?" + urlencode({k: v for k, v in given.items() if k != "cursor"})
    return ctx.render(
        "invoices/list.html",
        status=422 if errors else 200,
        filters=given,
        errors=errors,
        items=items,
        next_link=next_link,
        first_link=first_link if "cursor" in given else None,
        page_sizes=PAGE_SIZES,
        **_labels(ctx),
    )


# --- one invoice ----------------------------------------------------------------------------------


@page(bp, "/console/invoices/{number}", auth="merchant")
def invoice_detail(ctx: PageContext, number: str) -> Response:
    record = own_invoice(ctx, number)
    done = DONE.get(ctx.query.get("done", ""))
    return ctx.render(
        "invoices/detail.html",
        invoice=record,
        terms=terms_of(ctx, record),
        allowances=allowances_of(ctx, record),
        history=_history(ctx, record),
        qr=_qr_images(record),
        period_label=Period.parse(record.period).label_zh,
        done=ctx.t(*done) if done else None,
        carrier_name=_carrier_name(ctx, record),
        **_labels(ctx),
    )


def _carrier_name(ctx: PageContext, record: InvoiceRecord) -> str:
    if not record.carrier:
        return ""
    code = str(record.carrier.get("type"))
    names = {"3J0002": ("手機條碼", "Mobile barcode"), "CQ0001": ("自然人憑證", "Citizen certificate")}
    zh, en = names.get(code, ("會員載具", "Member carrier"))
    return ctx.t(zh, en)


@page(bp, "/console/invoices/{number}/pdf", auth="merchant")
def invoice_pdf(ctx: PageContext, number: str) -> Response:
    """The proof (5.7 cm 證明聯) or A4 PDF: a redirect to a short-lived link, as the API answers."""
    record = own_invoice(ctx, number)
    query = PdfQuery.model_validate({k: v for k, v in ctx.query.items() if k in ("layout", "download")})
    kind = "proof_pdf" if query.layout == "proof" else "a4_pdf"
    link = artifact_link(record, ctx.ubn, kind, query.download)
    return Response(body="", status_code=302, headers={"Location": str(link.headers["Location"])})


@page(bp, "/console/invoices/{number}/xml", auth="merchant")
def invoice_xml(ctx: PageContext, number: str) -> Response:
    """The invoice's MIG 4.1 XML (F0401, or A0101 when issued for exchange), as a download."""
    return invoice_message(own_invoice(ctx, number), attachment=True)


def _refusal(ctx: PageContext, error: Exception) -> dict[str, str]:
    """A refused change as field errors; a vanished invoice is still a 404 page."""
    if isinstance(error, NotFound) or not isinstance(error, (ValidationError, DomainError)):
        raise error
    return ctx.field_errors(error)


def _action_page(
    ctx: PageContext, template: str, record: InvoiceRecord, values: dict[str, Any], errors: dict[str, str], **more: Any
) -> Response:
    """A change's page: what it will do to the invoice, the form as typed and, once refused, why (422)."""
    status = 422 if errors else 200
    return ctx.render(template, status, invoice=record, values=values, errors=errors, **more, **_labels(ctx))


def _done(ctx: PageContext, record: InvoiceRecord, change: str) -> Response:
    """Back to the invoice, which says what was done (``DONE``)."""
    return ctx.redirect(f"/console/invoices/{record.invoice_number}?done={change}")


def _optional(form_value: str) -> str | None:
    return form_value.strip() or None


# --- cancel (作廢) ----------------------------------------------------------------------------------


@page(bp, "/console/invoices/{number}/cancel", ("GET", "POST"), auth="merchant")
def cancel_invoice(ctx: PageContext, number: str) -> Response:
    record = own_invoice(ctx, number)
    values = {name: ctx.form.get(name).strip() for name in ("reason", "return_tax_document_number", "remark")}
    errors: dict[str, str] = {}
    if ctx.request.method == "POST":
        try:
            body = InvoiceCancelRequest.model_validate({k: v for k, v in values.items() if v})
            deps.lifecycle_service().cancel(
                ctx.ubn,
                record.invoice_number,
                reason=body.reason,
                return_tax_document_number=body.return_tax_document_number,
                remark=body.remark,
                actor=ctx.actor,
            )
            return _done(ctx, record, "cancelled")
        except (ValidationError, DomainError) as exc:
            errors = _refusal(ctx, exc)
    return _action_page(ctx, "invoices/cancel.html", record, values, errors, terms=terms_of(ctx, record))


# --- void and re-issue (註銷重開, 補打統編) -------------------------------------------------------------


@page(bp, "/console/invoices/{number}/void", ("GET", "POST"), auth="merchant")
def void_invoice(ctx: PageContext, number: str) -> Response:
    record = own_invoice(ctx, number)
    errors: dict[str, str] = {}
    if ctx.request.method == "GET":
        delivery = Delivery.from_record(record)
        values = {"reason": "", "remark": ""}
    else:
        delivery = Delivery.from_form(ctx.form)
        values = {name: ctx.form.get(name).strip() for name in ("reason", "remark")}
        try:
            body = InvoiceVoidRequest.model_validate(
                {
                    "reason": values["reason"],
                    "remark": _optional(values["remark"]),
                    "replacement": delivery.body(),
                }
            )
            deps.lifecycle_service().void(
                ctx.ubn,
                record.invoice_number,
                reason=body.reason,
                remark=body.remark,
                replacement=body.replacement.given(),
                actor=ctx.actor,
            )
            return _done(ctx, record, "voided")
        except (ValidationError, DomainError) as exc:
            errors = {delivery.shown_field(name): text for name, text in _refusal(ctx, exc).items()}
    return _action_page(
        ctx,
        "invoices/void.html",
        record,
        values,
        errors,
        terms=terms_of(ctx, record),
        delivery=delivery,
        carrier_kinds=[(code, ctx.t(zh, en)) for code, zh, en in CARRIER_KINDS],
    )


# --- allowance (折讓) -------------------------------------------------------------------------------


@page(bp, "/console/invoices/{number}/allowance", ("GET", "POST"), auth="merchant")
def allowance(ctx: PageContext, number: str) -> Response:
    """Two steps: the lines and amounts to allow, then the computed allowance to confirm."""
    record = own_invoice(ctx, number)
    terms = terms_of(ctx, record)
    if ctx.request.method == "GET":
        return _allowance_form(ctx, record, terms, AllowanceForm.blank(record), new_form_key())
    form = AllowanceForm.from_form(record, ctx.form)
    key = ctx.form.get("idempotency_key")
    if not valid_form_key(key):
        key = new_form_key()
    steps = ctx.form.all("step")
    if "edit" in steps:  # back from the confirmation, with what was typed
        return _allowance_form(ctx, record, terms, form, key)
    try:
        amounts = form.amounts()
    except (ValidationError, DomainError) as exc:
        return _allowance_form(ctx, record, terms, form, key, _allowance_errors(ctx, form, exc))
    if "confirm" not in steps:
        return _allowance_page(ctx, "invoices/allowance_confirm.html", record, terms, form, key, amounts=amounts)
    try:
        deps.allowance_service().issue(ctx.ubn, form.body(), actor=ctx.actor, idempotency_key=key)
    except (ValidationError, DomainError) as exc:
        return _allowance_form(ctx, record, terms, form, key, _allowance_errors(ctx, form, exc))
    return _done(ctx, record, "allowance")


def _allowance_errors(ctx: PageContext, form: AllowanceForm, exc: Exception) -> dict[str, str]:
    if isinstance(exc, ValidationError):
        return ctx.field_errors(remap_items(invalid_input_from(exc), form.used))
    if isinstance(exc, DomainError) and not isinstance(exc, NotFound):
        return ctx.field_errors(remap_items(exc, form.used))
    raise exc


def _allowance_form(
    ctx: PageContext,
    record: InvoiceRecord,
    terms: Terms,
    form: AllowanceForm,
    key: str,
    errors: dict[str, str] | None = None,
) -> Response:
    status = 422 if errors else 200
    return _allowance_page(ctx, "invoices/allowance.html", record, terms, form, key, status, errors=errors or {})


def _allowance_page(
    ctx: PageContext,
    template: str,
    record: InvoiceRecord,
    terms: Terms,
    form: AllowanceForm,
    key: str,
    status: int = 200,
    **more: Any,
) -> Response:
    """Either step of an allowance: the lines as typed and the date (and period) it will carry."""
    today = _now().date()
    period_label = Period.from_date(today).label_zh
    return ctx.render(
        template,
        status,
        invoice=record,
        terms=terms,
        form=form,
        key=key,
        today=today,
        period_label=period_label,
        **more,
        **_labels(ctx),
    )


def _own_allowance(ctx: PageContext, record: InvoiceRecord, allowance_number: str) -> AllowanceRecord:
    """The merchant's allowance, and only if it reduces this invoice."""
    missing = NotFound("ALLOWANCE_NOT_FOUND", "No such allowance", "查無此折讓單")
    if not _ALLOWANCE.fullmatch(allowance_number):
        raise missing
    found = deps.allowance_service().get(ctx.ubn, allowance_number)
    if record.invoice_number not in {original.invoice_number for original in found.originals}:
        raise missing
    return found


@page(bp, "/console/invoices/{number}/allowances/{allowance_number}/cancel", ("GET", "POST"), auth="merchant")
def cancel_allowance(ctx: PageContext, number: str, allowance_number: str) -> Response:
    record = own_invoice(ctx, number)
    found = _own_allowance(ctx, record, allowance_number)
    values = {name: ctx.form.get(name).strip() for name in ("reason", "remark")}
    errors: dict[str, str] = {}
    if ctx.request.method == "POST":
        try:
            body = CancelRequest.model_validate({k: v for k, v in values.items() if v})
            deps.allowance_service().cancel(ctx.ubn, found.allowance_number, body, actor=ctx.actor)
            return _done(ctx, record, "allowance_cancelled")
        except (ValidationError, DomainError) as exc:
            errors = _refusal(ctx, exc)
    return _action_page(ctx, "invoices/allowance_cancel.html", record, values, errors, allowance=found)


@page(bp, "/console/invoices/{number}/allowances/{allowance_number}/void", ("GET", "POST"), auth="merchant")
def void_allowance(ctx: PageContext, number: str, allowance_number: str) -> Response:
    """註銷重開: the allowance's lines on this invoice, to correct; the same number and date."""
    record = own_invoice(ctx, number)
    found = _own_allowance(ctx, record, allowance_number)
    single = {o.invoice_number for o in found.originals} == {record.invoice_number}
    terms = terms_of(ctx, record)
    values = {name: ctx.form.get(name).strip() for name in ("reason", "void_remark")}
    errors: dict[str, str] = {}
    if ctx.request.method == "GET":
        form = AllowanceForm.of_allowance(record, found)
    else:
        form = AllowanceForm.from_form(record, ctx.form)
        try:
            replacement = form.body()
            form.amounts()  # no line given is said as the issue form says it
            body = AllowanceVoidRequest.model_validate(
                {"reason": values["reason"], "remark": _optional(values["void_remark"]), "replacement": replacement}
            )
            deps.allowance_service().void(ctx.ubn, found.allowance_number, body, actor=ctx.actor)
            return _done(ctx, record, "allowance_voided")
        except (ValidationError, DomainError) as exc:
            errors = _void_allowance_errors(ctx, form, exc)
    return _allowance_page(
        ctx,
        "invoices/allowance_void.html",
        record,
        terms,
        form,
        "",
        422 if errors else 200,
        errors=errors,
        allowance=found,
        values=values,
        single=single,
        void_until=when(found.issued_at + VOID_WINDOW),
    )


def _void_allowance_errors(ctx: PageContext, form: AllowanceForm, exc: Exception) -> dict[str, str]:
    """The form's fields: the request nests the lines under ``replacement``."""
    if isinstance(exc, NotFound) or not isinstance(exc, (ValidationError, DomainError)):
        raise exc
    error = invalid_input_from(exc) if isinstance(exc, ValidationError) else exc
    if error.field and error.field.startswith("replacement."):
        error = type(error)(error.code, error.message, error.message_zh, error.field.removeprefix("replacement."))
    elif error.field == "remark":
        error = type(error)(error.code, error.message, error.message_zh, "void_remark")
    return ctx.field_errors(remap_items(error, form.used))


# --- send again -----------------------------------------------------------------------------------


@page(bp, "/console/invoices/{number}/notify", ("GET", "POST"), auth="merchant")
def notify_invoice(ctx: PageContext, number: str) -> Response:
    record = own_invoice(ctx, number)
    errors: dict[str, str] = {}
    if ctx.request.method == "GET":
        values = {"channels": ["email"], "email": "", "mobile": ""}
    else:
        values = {
            "channels": ctx.form.all("channels"),
            "email": ctx.form.get("email").strip(),
            "mobile": ctx.form.get("mobile").strip(),
        }
        try:
            body = InvoiceNotifyRequest.model_validate(
                {
                    "channels": values["channels"],
                    "email": _optional(str(values["email"])),
                    "mobile": _optional(str(values["mobile"])),
                }
            )
            recipients = Recipients(channels=tuple(dict.fromkeys(body.channels)), email=body.email, mobile=body.mobile)
            deps.lifecycle_service().notify(ctx.ubn, record.invoice_number, recipients, actor=ctx.actor)
            return _done(ctx, record, "notified")
        except (ValidationError, DomainError) as exc:
            errors = {
                ("channels" if name.startswith("channels") else name): text for name, text in _refusal(ctx, exc).items()
            }
    return _action_page(ctx, "invoices/notify.html", record, values, errors)
