"""The invoice lottery (統一發票給獎) in the console.

The tax office (/staff/lottery): choose a period, enter its drawn numbers or upload the MOF's E0504
winning-invoice list, see how many winners were found per prize; correct a wrong load by replacing
the numbers. The merchant (/console/lottery): its winning invoices per period, what to do for each,
the winning proof to print, and the proof marked delivered (htmx, the row swapped in place).

Every view calls the service the JSON routes call (chalicelib/api/lottery.py); a refusal is shown
next to the input it names, in the reader's language.
"""

from __future__ import annotations

import re
from typing import Any

from chalice.app import Blueprint, Response
from pydantic import ValidationError

from chalicelib.api import deps
from chalicelib.api.lottery import WinningNumbersRequest, load_numbers, winning_proof_link
from chalicelib.domain.errors import Conflict, DomainError
from chalicelib.domain.lottery import (
    DUTY_TEXTS,
    MAX_FIRST_PRIZES,
    PRIZE_TABLE,
    Duty,
    PeriodNumbers,
    Prize,
    WinnerRecord,
    prize_name,
)
from chalicelib.domain.period import Period
from chalicelib.services.lottery import WITHDRAWN_TEXT, LoadReport, period_of
from chalicelib.web.pages import PageContext, page
from chalicelib.web.rendering import taiwan_time
from chalicelib.web.track_summary import current_period, period_title

bp = Blueprint(__name__)

#: Extra sixth-prize numbers the form offers (the MOF has drawn at most a few).
EXTRA_SIXTH_INPUTS = 3
FIRST_INPUTS = tuple(f"first_{i}" for i in range(MAX_FIRST_PRIZES))
EXTRA_INPUTS = tuple(f"extra_sixth_{i}" for i in range(EXTRA_SIXTH_INPUTS))
NUMBER_INPUTS = ("special", "grand", *FIRST_INPUTS, *EXTRA_INPUTS)
_LISTED = re.compile(r"(first|extra_sixth)\[(\d+)\]")


def _prize_label(ctx: PageContext, prize: Prize | str) -> str:
    return ctx.t(*prize_name(Prize(prize)))


def _drawn_period() -> Period:
    """The period a lottery page opens on: the last one that has ended (its numbers are drawn on the
    25th of the month after)."""
    return current_period().previous()


# --- the tax office ------------------------------------------------------------------------------------


def _input_of(error: DomainError | ValidationError, ctx: PageContext) -> dict[str, str]:
    """The error keyed by the form's input: ``first[1]`` is the input ``first_1``. A conflict with the
    period's state (other numbers loaded, a delivered prize) is about the whole form."""
    (name, text), *_ = ctx.field_errors(error).items()
    if isinstance(error, Conflict):
        return {"_": text}
    listed = _LISTED.fullmatch(name)
    if listed:
        name = f"{listed.group(1)}_{listed.group(2)}"
    elif name in ("first", "extra_sixth"):
        name = f"{name}_0"
    return {name: text}


def _values_of(stored: PeriodNumbers | None) -> dict[str, str]:
    if stored is None:
        return {}
    values = {"special": stored.special, "grand": stored.grand}
    values |= {f"first_{i}": number for i, number in enumerate(stored.first)}
    values |= {f"extra_sixth_{i}": number for i, number in enumerate(stored.extra_sixth)}
    return values


def _staff_page(ctx: PageContext, code: str, status: int = 200, **shown: Any) -> Response:
    variables: dict[str, Any] = {
        "errors": {},
        "e0504_errors": {},
        "period_errors": {},
        "report": None,
        "values": None,
        "filename": "",
        **shown,
    }
    period = _drawn_period()
    try:
        period = period_of(code) if code else period
    except DomainError as exc:
        variables["period_errors"] = ctx.field_errors(exc)
        status = max(status, 422)
    stored = deps.lottery_service().numbers(period)
    if variables["values"] is None:
        variables["values"] = _values_of(stored)
    report: LoadReport | None = variables["report"]
    return ctx.render(
        "staff/lottery.html",
        status=status,
        period=period.code,
        period_text=period_title(period, ctx.lang),
        asked=code or period.code,
        stored=stored,
        first_inputs=FIRST_INPUTS,
        extra_inputs=EXTRA_INPUTS,
        number_inputs=list(NUMBER_INPUTS),
        prize_table=PRIZE_TABLE,
        prize_label=lambda prize: _prize_label(ctx, prize),
        by_prize=report.by_prize() if report else [],
        when=taiwan_time,
        **variables,
    )


@page(bp, "/staff/lottery", ("GET", "POST"), auth="staff")
def staff_lottery(ctx: PageContext) -> Response:
    """The period's numbers and its loads; POST loads the numbers typed in (a first load)."""
    if ctx.request.method == "GET":
        return _staff_page(ctx, ctx.query.get("period", "").strip())
    return _load(ctx, replace=False)


@page(bp, "/staff/lottery/replace", ("POST",), auth="staff")
def staff_lottery_replace(ctx: PageContext) -> Response:
    """Correct a wrong load: the numbers typed in replace the period's (PUT …/numbers)."""
    return _load(ctx, replace=True)


def _load(ctx: PageContext, *, replace: bool) -> Response:
    code = ctx.form.get("period").strip()
    values = {name: ctx.form.get(name).strip() for name in NUMBER_INPUTS}
    try:
        body = WinningNumbersRequest.model_validate(
            {
                "special": values["special"],
                "grand": values["grand"],
                "first": [values[name] for name in FIRST_INPUTS if values[name]],
                "extra_sixth": [values[name] for name in EXTRA_INPUTS if values[name]],
            }
        )
        report = load_numbers(code, body, ctx.actor, replace=replace)
    except (DomainError, ValidationError) as exc:
        errors = _input_of(exc, ctx)
        if "period" in errors:
            return _staff_page(ctx, code, 422, values=values, period_errors=errors)
        return _staff_page(ctx, code, 422, values=values, errors=errors)
    return _staff_page(ctx, report.period, report=report, values=values)


@page(bp, "/staff/lottery/e0504", ("POST",), auth="staff")
def staff_lottery_e0504(ctx: PageContext) -> Response:
    """The MOF's winning-invoice list (E0504 XML), checked against its schema and its PrizeType codes."""
    code = ctx.form.get("period").strip()
    upload = ctx.form.file("file")
    if upload is None:
        errors = {"file": ctx.t("請選擇 E0504 XML 檔案", "Choose the E0504 XML file")}
        return _staff_page(ctx, code, 422, e0504_errors=errors)
    try:
        report = deps.lottery_service().load_e0504(period_of(code), upload.data, actor=ctx.actor)
    except DomainError as exc:
        (name, text), *_ = ctx.field_errors(exc).items()
        if name == "period":
            return _staff_page(ctx, code, 422, period_errors={"period": text})
        # The schema's and the rows' errors name an element of the file: shown with it, under the file.
        where = "" if name in ("_", "body") else f"{name}: "
        return _staff_page(ctx, code, 422, e0504_errors={"file": where + text})
    return _staff_page(ctx, report.period, report=report, filename=upload.filename)


# --- the merchant --------------------------------------------------------------------------------------


def winner_row(ctx: PageContext, record: WinnerRecord) -> dict[str, Any]:
    """One winner as the merchant's table shows it."""
    duty_zh, duty_en = WITHDRAWN_TEXT if record.status == "withdrawn" else DUTY_TEXTS[record.duty]
    base = f"/console/lottery/{record.period}/{record.invoice_number}"
    can_deliver = record.duty is Duty.DELIVER_PROOF and record.status != "withdrawn"
    return {
        "record": record,
        "prize": _prize_label(ctx, record.prize),
        "what_to_do": ctx.t(duty_zh, duty_en),
        "proof": f"{base}/proof" if can_deliver else None,
        "deliver": f"{base}/delivered" if can_deliver and record.status == "to_deliver" else None,
    }


def _merchant_page(ctx: PageContext, code: str) -> Response:
    errors: dict[str, str] = {}
    status = 200
    period = _drawn_period()
    try:
        period = period_of(code) if code else period
    except DomainError as exc:
        errors = ctx.field_errors(exc)
        status = 422
    winners = deps.lottery_service().winners(ctx.ubn, period)
    return ctx.render(
        "lottery/list.html",
        status=status,
        period=period.code,
        asked=code or period.code,
        period_text=period_title(period, ctx.lang),
        rows=[winner_row(ctx, w) for w in winners],
        to_deliver=sum(1 for w in winners if w.status == "to_deliver"),
        errors=errors,
        when=taiwan_time,
    )


@page(bp, "/console/lottery", auth="merchant")
def lottery(ctx: PageContext) -> Response:
    return _merchant_page(ctx, ctx.query.get("period", "").strip())


@page(bp, "/console/lottery/{period}", auth="merchant")
def lottery_period(ctx: PageContext, period: str) -> Response:
    return _merchant_page(ctx, period)


@page(bp, "/console/lottery/{period}/{number}/proof", auth="merchant")
def winning_proof(ctx: PageContext, period: str, number: str) -> Response:
    """The winning proof (中獎發票證明聯): a redirect to a short-lived link, as the API answers."""
    link = winning_proof_link(ctx.ubn, period, number, download=ctx.query.get("download") in ("1", "true"))
    return Response(body="", status_code=302, headers={"Location": link})


@page(bp, "/console/lottery/{period}/{number}/delivered", ("POST",), auth="merchant")
def mark_delivered(ctx: PageContext, period: str, number: str) -> Response:
    """The proof was handed to the winner. From htmx: the row, delivered; else back to the list."""
    service = deps.lottery_service()
    found = service.mark_delivered(ctx.ubn, period_of(period), number, actor=ctx.actor)
    if ctx.is_htmx:
        left = sum(1 for w in service.winners(ctx.ubn, period_of(period)) if w.status == "to_deliver")
        row = ctx.render("lottery/_row.html", row=winner_row(ctx, found), when=taiwan_time)
        count = ctx.render("lottery/_to_deliver.html", to_deliver=left, oob=True)
        row.body = str(row.body) + str(count.body)
        return row
    return ctx.redirect(f"/console/lottery/{found.period}")
