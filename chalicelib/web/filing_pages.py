"""報稅: the bimonthly business-tax return (營業人銷售額與稅額申報書, form 401/403) in the console.

The same services as chalicelib/api/filings.py: the period list, the return box by box, the
reconciliation (對帳), the submission (and a correction, 更正申報, with its reason), payments, the
filed documents and the period's blank numbers (空白字軌, E0402). Filing is confirmed on a page of
its own that says what filing does and by when, so it works without JavaScript and cannot be
done by a stray click.
"""

from __future__ import annotations

import re
import secrets
from datetime import date
from typing import Any

from chalice.app import Blueprint, Response
from pydantic import ValidationError

from chalicelib.api import deps
from chalicelib.api.filings import RECONCILE_SECONDS
from chalicelib.domain.errors import DomainError, NotFound
from chalicelib.domain.filing import OtherPurchases, TaxReturn
from chalicelib.domain.filing_status import ensure_period_ended, ensure_period_started
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.services.filing_views import FilingView
from chalicelib.services.filings import PaymentRequest, SubmitRequest
from chalicelib.web.i18n import error_text
from chalicelib.web.pages import PageContext, page
from chalicelib.web.rendering import taiwan_time
from chalicelib.web.track_summary import period_label

bp = Blueprint(__name__)

#: The return's boxes in the three parts of the form, in its order (codes as in services/filings.LINES).
SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("銷項", "Sales", ("5", "6", "7", "15", "17", "18", "19", "21", "22", "23", "25")),
    ("進項", "Purchases", ("28", "29", "32", "33", "40", "41", "44", "45")),
    ("稅額計算", "Tax computation", ("101", "107", "108", "110", "111", "112", "113", "114", "115")),
)
#: The boxes a merchant looks at first, shown above the full return.
MAIN_BOXES = ("21", "22", "45", "111", "114", "115")
SUBMIT_FIELDS = ("previous_credit", "other_purchases.amount", "other_purchases.tax", "reason")
PAYMENT_FIELDS = ("amount", "paid_on", "reference")
_E0402 = re.compile(r"E0402-[A-Z]{2}-0[78]\.xml")  # as the JSON route names the files
DONE = {
    "filed": ("申報書已送出。", "The return was filed."),
    "paid": ("已登錄繳款。", "The payment was recorded."),
    "reconciled": ("對帳完成。", "The reconciliation finished."),
    "reconcile_running": (
        "對帳尚未完成（發票較多）；請再按一次「重新對帳」繼續。",
        "The reconciliation has not finished (many invoices); press Reconcile again to go on.",
    ),
    "blank": ("空白字軌已申報。", "The blank numbers were filed."),
}


def _today() -> date:
    return deps.rules_clock().now().astimezone(TAIWAN_TZ).date()


def period_name(ctx: PageContext, code: str) -> str:
    """``115年11-12月`` in Chinese, ``Nov–Dec 2026`` in English."""
    return period_label(Period.parse(code), ctx.lang)


# --- the list of periods --------------------------------------------------------------------------


@page(bp, "/console/filings", auth="merchant")
def filing_list(ctx: PageContext) -> Response:
    before = ctx.query.get("before") or None
    periods = deps.filing_service().periods(ctx.ubn, before, 12)
    last = Period.parse(periods[-1].period)
    older = last.previous().code if (last.roc_year, last.end_month) > (1, 2) else None
    return ctx.render(
        "filings/list.html", periods=periods, older=older, newest=before is None, name=lambda c: period_name(ctx, c)
    )


# --- one period -------------------------------------------------------------------------------------


def _period_page(
    ctx: PageContext,
    code: str,
    *,
    status: int = 200,
    submit_errors: dict[str, str] | None = None,
    payment_errors: dict[str, str] | None = None,
    other_errors: dict[str, str] | None = None,
) -> Response:
    view = deps.filing_service().get(ctx.ubn, code)
    period = Period.parse(view.period)
    today = _today()
    head = deps.filings().head(ctx.ubn, period.code) or {}
    blank = deps.blank_number_filing().view(ctx.ubn, period, head)
    ended = today > period.last_day
    preview = []
    if ended and not blank["filed_at"]:
        preview = [
            {"track": r.track, "invoice_type": r.invoice_type, "begin": b.begin, "end": b.end, "count": b.count}
            for r in deps.track_service().blank_report(ctx.ubn, period)
            for b in r.ranges
        ]
    lines = {line.code: line for line in view.lines}
    done = DONE.get(ctx.query.get("done", ""))
    return ctx.render(
        "filings/period.html",
        status=status,
        view=view,
        period=period,
        ended=ended,
        late=today > view.due_by,  # the deadline moved off a day off, as the service judges it
        sections=[(zh, en, [lines[c] for c in codes]) for zh, en, codes in SECTIONS],
        main=[lines[c] for c in MAIN_BOXES],
        blank=blank,
        preview=preview,
        done=ctx.t(*done) if done else "",
        submit_errors=submit_errors or {},
        payment_errors=payment_errors or {},
        page_errors=other_errors or {},
        values={name: ctx.form.get(name) for name in (*SUBMIT_FIELDS, *PAYMENT_FIELDS)},
        today=today.isoformat(),
        taipei=taiwan_time,
        name=period_name(ctx, period.code),
    )


@page(bp, "/console/filings/{period}", auth="merchant")
def filing_period(ctx: PageContext, period: str) -> Response:
    return _period_page(ctx, period)


def _submit_request(ctx: PageContext) -> SubmitRequest:
    form = ctx.form
    body: dict[str, Any] = {}
    if form.get("reason").strip():
        body["reason"] = form.get("reason")
    if form.get("previous_credit").strip():
        body["previous_credit"] = form.get("previous_credit").strip()
    amount, tax = form.get("other_purchases.amount").strip(), form.get("other_purchases.tax").strip()
    if amount or tax:
        body["other_purchases"] = {"amount": amount or "0", "tax": tax or "0"}
    return SubmitRequest.model_validate(body)


def _errors_for(ctx: PageContext, error: DomainError | ValidationError, fields: tuple[str, ...]) -> dict[str, str]:
    """The error next to its input, or at the top of the form when it names none of them."""
    ((name, text),) = ctx.field_errors(error).items()
    return {name if name in fields else "_": text}


@page(bp, "/console/filings/{period}/submit", ("POST",), auth="merchant")
def filing_submit(ctx: PageContext, period: str) -> Response:
    parsed = Period.parse(period)
    service = deps.filing_service()
    try:
        request = _submit_request(ctx)
        if ctx.form.get("confirmed") != "yes":
            view = service.get(ctx.ubn, parsed.code)
            if view.filing is not None and not request.reason:
                # Said before the confirmation, not after it (the service refuses it as well).
                needed = {"reason": ctx.t("更正申報須填寫原因。", "A correction needs a reason.")}
                return _period_page(ctx, parsed.code, status=422, submit_errors=needed)
            return _confirmation(ctx, parsed, view, request)
        profile = deps.merchants().get_profile(ctx.ubn) or {}
        service.submit(
            ctx.ubn,
            parsed.code,
            request,
            actor=ctx.actor,
            merchant_name=str(profile.get("name") or ""),
            idempotency_key=ctx.form.get("idempotency_key")[:64] or None,
        )
    except NotFound:
        raise
    except (ValidationError, DomainError) as exc:
        return _period_page(ctx, parsed.code, status=422, submit_errors=_errors_for(ctx, exc, SUBMIT_FIELDS))
    return ctx.redirect(f"/console/filings/{parsed.code}?done=filed")


def _confirmation(ctx: PageContext, period: Period, view: FilingView, request: SubmitRequest) -> Response:
    today = _today()
    if today <= period.last_day:
        # The same refusal the service gives, before a confirmation that could only fail.
        ensure_period_ended(period, today)
    figures = _figures_to_file(ctx.ubn, period, request)
    labels = {line.code: line for line in view.lines}
    main = [labels[c].model_copy(update={"value": figures.fields[c]}) for c in MAIN_BOXES]
    return ctx.render(
        "filings/confirm.html",
        view=view,
        period=period,
        version=(view.filing.version if view.filing else 0) + 1,
        correction=view.filing is not None,
        late=today > view.due_by,  # the deadline moved off a day off, as the service judges it
        request=request,
        payable=figures.payable,
        main=main,
        values={name: ctx.form.get(name) for name in SUBMIT_FIELDS},
        idempotency_key=secrets.token_urlsafe(18),
        name=period_name(ctx, period.code),
    )


def _figures_to_file(ubn: str, period: Period, request: SubmitRequest) -> TaxReturn:
    """The return the submission would file, with the credit and other purchases typed in.

    Computed by the filing service's own rule (the previous return's credit when none is given), so
    what the confirmation shows is what is filed unless an invoice changes in between."""
    other = request.other_purchases
    return deps.filing_service().preview(
        ubn,
        period,
        previous_credit=request.previous_credit,
        other=OtherPurchases(other.amount, other.tax) if other else None,
    )


@page(bp, "/console/filings/{period}/payment", ("POST",), auth="merchant")
def filing_payment(ctx: PageContext, period: str) -> Response:
    parsed = Period.parse(period)
    try:
        request = PaymentRequest.model_validate({name: ctx.form.get(name).strip() for name in PAYMENT_FIELDS})
        deps.filing_service().pay(ctx.ubn, parsed.code, request, actor=ctx.actor)
    except NotFound:
        raise
    except (ValidationError, DomainError) as exc:
        return _period_page(ctx, parsed.code, status=422, payment_errors=_errors_for(ctx, exc, PAYMENT_FIELDS))
    return ctx.redirect(f"/console/filings/{parsed.code}?done=paid")


@page(bp, "/console/filings/{period}/reconcile", ("POST",), auth="merchant")
def filing_reconcile(ctx: PageContext, period: str) -> Response:
    parsed = Period.parse(period)
    ensure_period_started(parsed, _today())
    report = deps.reconciler().run(
        ctx.ubn,
        parsed,
        repair=ctx.form.get("repair") == "yes",
        out_of_time=deps.time_budget(RECONCILE_SECONDS),
    )
    done = "reconcile_running" if report["status"] == "running" else "reconciled"
    return ctx.redirect(f"/console/filings/{parsed.code}?done={done}#reconciliation")


@page(bp, "/console/filings/{period}/blank-numbers", ("POST",), auth="merchant")
def filing_blank_numbers(ctx: PageContext, period: str) -> Response:
    parsed = Period.parse(period)
    try:
        deps.blank_number_filing().file(ctx.ubn, parsed.code, actor=ctx.actor)
    except DomainError as exc:
        return _period_page(ctx, parsed.code, status=422, other_errors={"blank": error_text(exc, ctx.lang)})
    return ctx.redirect(f"/console/filings/{parsed.code}?done=blank#blank-numbers")


# --- downloads ----------------------------------------------------------------------------------------


def see_other(location: str) -> Response:
    """A download: the browser goes on to the short-lived S3 link."""
    return Response(body="", status_code=303, headers={"Location": location})


@page(bp, "/console/filings/{period}/versions/{version}/{kind}", auth="merchant")
def filing_document(ctx: PageContext, period: str, version: str, kind: str) -> Response:
    if kind not in ("pdf", "json") or not version.isdigit() or not 1 <= int(version) <= 99:
        raise NotFound("FILING_NOT_FOUND", "No such filed version of this period", "查無此期申報版本", "version")
    return see_other(deps.filing_service().document_link(ctx.ubn, period, int(version), kind))


@page(bp, "/console/filings/{period}/blank-numbers/{name}", auth="merchant")
def filing_blank_file(ctx: PageContext, period: str, name: str) -> Response:
    if not _E0402.fullmatch(name):
        raise NotFound("FILE_NOT_FOUND", "No such E0402 file for this period", "本期無此空白字軌檔", "file")
    return see_other(deps.blank_number_filing().link(ctx.ubn, period, name))
