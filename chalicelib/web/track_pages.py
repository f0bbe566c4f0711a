"""字軌: the merchant's tracks for a period, one range with its booklets (activate 取號 and assign
them to issuing channels), loading the MOF platform's allocation file, and the blank-number
report (空白字軌, E0402) with its downloads.

The pages call the TrackService the /v1/tracks routes call. A range is only ever looked up among
the signed-in merchant's own, so another merchant's range id is a 404 like an unknown one.
"""

from __future__ import annotations

import json
from typing import Any

from chalice.app import Blueprint, Response
from pydantic import ValidationError

from chalicelib.api import deps
from chalicelib.api.tracks import ActivateRequest, e0402_download
from chalicelib.domain.channels import API, ONLINE
from chalicelib.domain.errors import DomainError, InvalidInput, NotFound
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.working_days import blank_number_deadline
from chalicelib.services.tracks import ChannelAssignment, RangeView, blank_summary
from chalicelib.web.forms import Upload
from chalicelib.web.pages import PageContext, page
from chalicelib.web.track_summary import (
    POS_PREFIX,
    channel_label,
    current_period,
    period_choices,
    period_title,
    stock_of,
)

bp = Blueprint(__name__)

CHANNEL_KINDS = (ONLINE, API, "pos")
MAX_UPLOAD_BYTES = 2_000_000  # an allocation file is a few KB; API Gateway's own limit is 10 MB


def _period(ctx: PageContext) -> Period:
    code = ctx.query.get("period")
    return Period.parse(code) if code else current_period()


def _common(ctx: PageContext, section: str) -> dict[str, Any]:
    """What every tracks template reads: its tab, channel names and the notice after a change."""
    return {
        "section": section,
        "channel_label": lambda channel: channel_label(channel, ctx.t),
        "done": ctx.query.get("done", ""),
    }


# --- the list ----------------------------------------------------------------------------------


@page(bp, "/console/tracks", auth="merchant")
def tracks(ctx: PageContext) -> Response:
    period = _period(ctx)
    ranges = deps.track_service().overview(ctx.ubn, period)
    return ctx.render(
        "tracks/index.html",
        period=period,
        period_text=period_title(period, ctx.lang),
        periods=period_choices(period, ctx.lang),
        is_current=period == current_period(),
        ranges=ranges,
        stock=stock_of(ranges),
        **_common(ctx, "list"),
    )


# --- one range ---------------------------------------------------------------------------------


def _not_found() -> NotFound:
    return NotFound("TRACK_NOT_FOUND", "No such track range", "查無此字軌區間")


def _own_range(ctx: PageContext, track_id: str) -> RangeView:
    try:
        period = Period.parse(track_id[:5])
    except InvalidInput:
        raise _not_found() from None
    for track_range in deps.track_service().overview(ctx.ubn, period):
        if track_range.track_id == track_id:
            return track_range
    raise _not_found()


def _range_page(
    ctx: PageContext,
    track_range: RangeView,
    status: int = 200,
    *,
    activate_errors: dict[str, str] | None = None,
    assign_errors: dict[str, str] | None = None,
) -> Response:
    period = Period.parse(track_range.period)
    kind = ctx.form.get("kind") or ONLINE
    return ctx.render(
        "tracks/range.html",
        status,
        r=track_range,
        period_text=period_title(period, ctx.lang),
        closed=deps.track_service().period_ended(period),
        waiting=sum(1 for b in track_range.booklets if b.status == "allocated"),
        free=sum(1 for b in track_range.booklets if b.status == "active" and not b.channel),
        activate_errors=activate_errors or {},
        assign_errors=assign_errors or {},
        values={
            "kind": kind if kind in CHANNEL_KINDS else ONLINE,
            "device": ctx.form.get("device"),
            "activate_booklets": ctx.form.get("booklets") if activate_errors else "",
            "assign_booklets": ctx.form.get("booklets") if assign_errors else "",
        },
        **_common(ctx, "list"),
    )


@page(bp, "/console/tracks/{track_id}", auth="merchant")
def track_range(ctx: PageContext, track_id: str) -> Response:
    return _range_page(ctx, _own_range(ctx, track_id))


def _whole_number(ctx: PageContext) -> str:
    return ctx.t("請輸入本數（正整數）", "Enter a number of booklets (a whole number)")


@page(bp, "/console/tracks/{track_id}/activate", ("POST",), auth="merchant")
def activate(ctx: PageContext, track_id: str) -> Response:
    """取號: take up booklets of the range for this period (all that wait, when no number is given)."""
    own = _own_range(ctx, track_id)
    count = ctx.form.get("booklets").strip()

    def run() -> None:
        body = ActivateRequest.model_validate({"booklets": count or None})
        deps.track_service().activate(ctx.ubn, own.track_id, body.booklets, actor=ctx.actor)

    errors = {"booklets": _whole_number(ctx)} if count and not count.isdigit() else ctx.attempt(run)
    if not errors:
        return ctx.redirect(f"/console/tracks/{own.track_id}?done=activated")
    return _range_page(ctx, _own_range(ctx, track_id), 422, activate_errors=errors)


def _channel(ctx: PageContext) -> str:
    kind = ctx.form.get("kind")
    if kind == "pos":
        return POS_PREFIX + ctx.form.get("device").strip()
    if kind not in (ONLINE, API):
        raise InvalidInput("INVALID_CHANNEL", "Choose a channel", "請選擇開立通路", "kind")
    return kind


@page(bp, "/console/tracks/{track_id}/channels", ("POST",), auth="merchant")
def assign(ctx: PageContext, track_id: str) -> Response:
    """Give the next free activated booklets to one channel (online, api or a POS device)."""
    own = _own_range(ctx, track_id)
    count = ctx.form.get("booklets").strip()
    errors: dict[str, str] = {}
    if not count:
        errors = {"booklets": ctx.t("請填寫本數", "Enter how many booklets")}
    elif not count.isdigit():
        errors = {"booklets": _whole_number(ctx)}
    else:

        def run() -> None:
            channel = _channel(ctx)
            body = ChannelAssignment.model_validate({"assignments": [{"channel": channel, "booklets": count}]})
            deps.track_service().assign(ctx.ubn, own.track_id, body, actor=ctx.actor)

        # the service names assignments[0].channel / .booklets: this form's inputs are device / booklets
        raw = ctx.attempt(run)
        for field, text in raw.items():
            name = field.removeprefix("assignments[0].")
            errors["device" if name == "channel" else name] = text
    if not errors:
        return ctx.redirect(f"/console/tracks/{own.track_id}?done=assigned")
    return _range_page(ctx, _own_range(ctx, track_id), 422, assign_errors=errors)


# --- allocation file (E0501 XML or the platform's CSV) -----------------------------------------


def _content_type(upload: Upload) -> str:
    """What the import service reads the file as: XML by its name or first byte, else CSV."""
    name = upload.filename.lower()
    if name.endswith(".xml") or upload.data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "application/xml"
    return "text/csv"


def _import_page(ctx: PageContext, status: int = 200, **variables: Any) -> Response:
    period = current_period()
    roc, month = f"{period.roc_year:03d}", period.end_month
    examples = {
        "ubn": ctx.ubn,
        "period": period.code,
        "csv_period": f"{roc}/{month - 1:02d} ~ {roc}/{month:02d}",
    }
    return ctx.render("tracks/import.html", status, example=examples, **_common(ctx, "import"), **variables)


@page(bp, "/console/tracks/import", ("GET", "POST"), auth="merchant")
def import_file(ctx: PageContext) -> Response:
    if ctx.request.method == "GET":
        return _import_page(ctx)
    upload = ctx.form.file("file")
    if upload is None:
        return _import_page(ctx, 422, errors={"file": ctx.t("請選擇配號檔", "Choose the allocation file")})
    if len(upload.data) > MAX_UPLOAD_BYTES:
        return _import_page(ctx, 422, errors={"file": ctx.t("檔案過大", "The file is too large")})
    try:
        result = deps.track_service().import_file(ctx.ubn, upload.data, _content_type(upload), actor=ctx.actor)
    except (ValidationError, DomainError) as exc:
        ((field, text),) = ctx.field_errors(exc).items()
        if field != "_":  # where in the file: records[1].ubn, InvoiceAssignNo[0].InvoiceTrack
            text += ctx.t(f"（{field}）", f" ({field})")
        return _import_page(ctx, 422, errors={"file": text})
    ranges = [RangeView.model_validate(r) for r in result["ranges"]]
    return ctx.render(
        "tracks/imported.html",
        imported=result["imported"],
        already=result["already_loaded"],
        ranges=ranges,
        filename=upload.filename,
        **_common(ctx, "import"),
    )


# --- blank-number report (空白字軌, E0402) -----------------------------------------------------


@page(bp, "/console/tracks/blank-report", auth="merchant")
def blank_report(ctx: PageContext) -> Response:
    period = _period(ctx)
    service = deps.track_service()
    reports = service.blank_report(ctx.ubn, period)
    today = deps.clock.now().astimezone(TAIWAN_TZ).date()
    previous = current_period().previous()
    # Early in a period the report that is due is last period's: point to it until its deadline.
    calendar = deps.working_calendar()
    previous_due = blank_number_deadline(previous, calendar)  # moved off a day off
    due_now = previous if period != previous and today <= previous_due else None
    return ctx.render(
        "tracks/blank_report.html",
        due_now=due_now,
        due_now_by=previous_due,
        due_by=blank_number_deadline(period, calendar),
        period=period,
        period_text=period_title(period, ctx.lang),
        periods=period_choices(period, ctx.lang),
        final=service.period_ended(period),
        reports=reports,
        total=sum(r.count for report in reports for r in report.ranges),
        **_common(ctx, "blank"),
    )


@page(bp, "/console/tracks/blank-report/download", auth="merchant")
def blank_report_download(ctx: PageContext) -> Response:
    """The E0402 file of one track, or the summary of all of them (format=json), as the API gives."""
    period = _period(ctx)
    service = deps.track_service()
    reports = service.blank_report(ctx.ubn, period)
    final = service.period_ended(period)
    if ctx.query.get("format") == "json":
        summary = blank_summary(period, reports, final=final, calendar=deps.working_calendar())
        return Response(
            body=json.dumps(summary, ensure_ascii=False, indent=2),
            status_code=200,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Content-Disposition": f'attachment; filename="blank-numbers-{period.code}.json"',
            },
        )
    track, invoice_type = ctx.query.get("track", ""), ctx.query.get("type", "")
    chosen = [r for r in reports if r.track == track and invoice_type in ("", r.invoice_type)]
    if not chosen:
        raise NotFound("NO_BLANK_NUMBERS", "This track has no blank numbers this period", "此字軌本期沒有空白號碼")
    return e0402_download(period, chosen[0], final=final)
