"""Tax filing (報稅): the period's 401/403 return, reconciliation, submission, blank numbers, payment."""

from __future__ import annotations

import re
from typing import Any, Literal

from chalice.app import Blueprint, CloudWatchEvent, Rate, Response
from pydantic import BaseModel, Field

from chalicelib.api import deps
from chalicelib.api.errors import json_response
from chalicelib.api.invoices import DownloadLink, link_response
from chalicelib.api.routing import idempotency_key, operation
from chalicelib.domain.errors import NotFound
from chalicelib.domain.filing_status import ensure_period_started
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.services.filing_views import FilingSummaryView, FilingView, ReconciliationView
from chalicelib.services.filings import PaymentRequest, SubmitRequest
from chalicelib.services.principal import Principal

bp = Blueprint(__name__)
TAG = "Tax filing"
_E0402 = re.compile(r"E0402-[A-Z]{2}-0[78]\.xml")
#: A request may recount for this long before it answers 202 and keeps the rest for the next call.
RECONCILE_SECONDS = 20.0


class FilingList(BaseModel):
    periods: list[FilingSummaryView]


class FilingListQuery(BaseModel):
    model_config = {"extra": "forbid"}

    before: str | None = Field(default=None, description="Latest period to list (e.g. 11410); default the current one")
    count: int = Field(default=12, ge=1, le=60, description="How many periods, newest first")


class ReconcileRequest(BaseModel):
    model_config = {"extra": "forbid"}

    repair: bool = Field(
        default=False, description="Overwrite totals that differ with the recounted values (the invoices are the truth)"
    )


class BlankNumberFile(BaseModel):
    name: str
    href: str


class BlankNumbersView(BaseModel):
    period: str
    due_by: str
    filed_at: str | None
    filed_by: str | None
    unused_numbers: int
    files: list[BlankNumberFile]


class EmptyBody(BaseModel):
    model_config = {"extra": "forbid"}


@operation(
    bp,
    "/v1/filings",
    summary="Periods with the status of their return: open, draft_ready, filed, paid, overdue or not_due",
    tag=TAG,
    query=FilingListQuery,
    response=FilingList,
    auth="merchant",
    scope="filings:read",
    errors=(400,),
)
def list_filings(query: FilingListQuery, principal: Principal) -> FilingList:
    return FilingList(periods=deps.filing_service().periods(principal.ubn, query.before, query.count))


@operation(
    bp,
    "/v1/filings/{period}",
    summary="The period's business-tax return (401; 403/404 figures with statements), from running totals",
    description=(
        "Live figures while the period is open or not yet filed; the filed version's figures after "
        "submission (`changed_since_filing` tells when the invoices changed since). Field codes are the "
        "401 form's boxes."
    ),
    tag=TAG,
    response=FilingView,
    auth="merchant",
    scope="filings:read",
    errors=(400, 422),
)
def get_filing(period: str, principal: Principal) -> FilingView:
    return deps.filing_service().get(principal.ubn, period)


@operation(
    bp,
    "/v1/filings/{period}/submit",
    "POST",
    summary="File the period's return (once; a correction needs a reason), with its PDF and JSON in S3",
    description="Send an `Idempotency-Key` to retry safely: the same key answers with the version it filed.",
    tag=TAG,
    body=SubmitRequest,
    response=FilingView,
    status=201,
    auth="merchant",
    scope="filings:write",
    errors=(400, 409, 422),
    headers=("Idempotency-Key",),
)
def submit_filing(period: str, body: SubmitRequest, principal: Principal) -> FilingView:
    profile = deps.merchants().get_profile(principal.ubn) or {}
    return deps.filing_service().submit(
        principal.ubn,
        period,
        body,
        actor=principal.actor,
        merchant_name=str(profile.get("name") or ""),
        idempotency_key=idempotency_key(bp.current_request),
    )


@operation(
    bp,
    "/v1/filings/{period}/payment",
    "POST",
    summary="Record a payment of the period's tax (amount, date, reference)",
    tag=TAG,
    body=PaymentRequest,
    response=FilingView,
    status=201,
    auth="merchant",
    scope="filings:write",
    errors=(400, 409, 422),
)
def record_payment(period: str, body: PaymentRequest, principal: Principal) -> FilingView:
    return deps.filing_service().pay(principal.ubn, period, body, actor=principal.actor)


@operation(
    bp,
    "/v1/filings/{period}/reconcile",
    "POST",
    summary="Recount the period from its invoices and compare the totals (202 while still counting: call again)",
    tag=TAG,
    body=ReconcileRequest,
    response=ReconciliationView,
    auth="merchant",
    scope="filings:read",
    errors=(400, 422),
)
def reconcile(period: str, body: ReconcileRequest, principal: Principal) -> Response:
    parsed = Period.parse(period)
    ensure_period_started(parsed, deps.rules_clock().now().astimezone(TAIWAN_TZ).date())
    report = deps.reconciler().run(
        principal.ubn, parsed, repair=body.repair, out_of_time=deps.time_budget(RECONCILE_SECONDS)
    )
    view = ReconciliationView.model_validate(report).model_dump(mode="json")
    return json_response(view, 202 if report["status"] == "running" else 200)


@operation(
    bp,
    "/v1/filings/{period}/versions/{version}/{kind}",
    summary="A filed version's return as PDF or JSON: a redirect to a 5-minute link (also in the JSON body)",
    tag=TAG,
    response=DownloadLink,
    status=302,
    auth="merchant",
    scope="filings:read",
    errors=(404,),
)
def filing_document(period: str, version: str, kind: str, principal: Principal) -> Response:
    if kind not in ("pdf", "json") or not version.isdigit() or not 1 <= int(version) <= 99:
        raise NotFound("FILING_NOT_FOUND", "No such filed version of this period", "查無此期申報版本", "version")
    url = deps.filing_service().document_link(principal.ubn, period, int(version), kind)
    return link_response(url)


@operation(
    bp,
    "/v1/filings/{period}/blank-numbers",
    summary="The period's unused numbers (E0402): whether filed, how many, the files",
    tag=TAG,
    response=BlankNumbersView,
    auth="merchant",
    scope="filings:read",
    errors=(400,),
)
def blank_numbers(period: str, principal: Principal) -> dict[str, Any]:
    parsed = Period.parse(period)
    head = deps.filings().head(principal.ubn, parsed.code) or {}
    return deps.blank_number_filing().view(principal.ubn, parsed, head)


@operation(
    bp,
    "/v1/filings/{period}/blank-numbers",
    "POST",
    summary="File the period's unused numbers (E0402, one file per track) after the period; repeating it is harmless",
    tag=TAG,
    body=EmptyBody,
    response=BlankNumbersView,
    status=201,
    auth="merchant",
    scope="filings:write",
    errors=(400, 422),
)
def file_blank_numbers(period: str, body: EmptyBody, principal: Principal) -> dict[str, Any]:
    return deps.blank_number_filing().file(principal.ubn, period, actor=principal.actor)


@operation(
    bp,
    "/v1/filings/{period}/blank-numbers/{name}",
    summary="One filed E0402 file: a redirect to a 5-minute link",
    tag=TAG,
    response=DownloadLink,
    status=302,
    auth="merchant",
    scope="filings:read",
    errors=(404,),
)
def blank_number_file(period: str, name: str, principal: Principal) -> Response:
    if not _E0402.fullmatch(name):
        raise NotFound("FILE_NOT_FOUND", "No such E0402 file for this period", "本期無此空白字軌檔", "file")
    return link_response(deps.blank_number_filing().link(principal.ubn, period, name))


# --- staff: the scheduled jobs, on demand ---------------------------------------------------------


class JobRequest(BaseModel):
    model_config = {"extra": "forbid"}

    period: str = Field(description="The period the job is about, e.g. 11410 (it must have ended)")


class JobView(BaseModel):
    job: Literal["close", "blank_reminder", "return_reminder", "overdue"]
    period: str
    done: bool
    merchants: int
    notified: int
    started_at: str | None
    finished_at: str | None


@operation(
    bp,
    "/v1/admin/jobs/{job}",
    "POST",
    summary="Run a period job now (close, blank_reminder, return_reminder, overdue); call again until done",
    description=(
        "The same job the schedule runs. Each run goes on where the last stopped; notices already sent "
        "are never sent again."
    ),
    tag="Staff",
    body=JobRequest,
    response=JobView,
    auth="staff",
    errors=(400, 422),
)
def run_job(job: str, body: JobRequest, principal: Principal) -> Response:
    from dataclasses import asdict

    from chalicelib.services.period_close import JOBS, unknown_job

    if job not in JOBS:
        raise unknown_job(job)
    report = deps.period_jobs().run(job, Period.parse(body.period), deps.time_budget(RECONCILE_SECONDS))
    return json_response(JobView.model_validate(asdict(report)).model_dump(mode="json"), 200 if report.done else 202)


# --- the schedule -------------------------------------------------------------------------------------

#: Leave this much of the Lambda's time unused, so a run saves its cursor before it is cut off.
JOB_MARGIN_S = 30.0
LOCAL_JOB_BUDGET_S = 60.0


@bp.schedule(
    Rate(1, unit=Rate.HOURS),
    name="period_jobs",
    description="Period close, reminders on the 10th and 13th, overdue after the 15th (Taiwan time)",
)
def scheduled_period_jobs(event: CloudWatchEvent) -> None:
    # Hourly, not daily: a run over thousands of merchants that hits its time limit is resumed
    # within the hour, and each job is idempotent, so the extra runs cost one read each.
    remaining = getattr(event.context, "get_remaining_time_in_millis", None)
    seconds = LOCAL_JOB_BUDGET_S if remaining is None else max(0.0, float(remaining()) / 1000 - JOB_MARGIN_S)
    deps.period_jobs().run_due(deps.time_budget(seconds))
