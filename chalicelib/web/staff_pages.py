"""The tax office's (稽徵機關) screens: the tax registry (稅籍登記) with its CSV import, a business's
initial password, track allocation (配號) and the period jobs.

Every page is for staff only (a merchant's session is sent to the staff sign-in). Each view reads
the form, calls the service the matching JSON route calls (chalicelib/api/admin.py, tracks.py,
filings.py) and renders; a service's error is shown next to the input it names.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response
from pydantic import ValidationError

from chalicelib.api import deps
from chalicelib.api.admin import RegistryRecordRequest, tax_registry_service
from chalicelib.api.filings import RECONCILE_SECONDS
from chalicelib.api.tracks import AllocationRequest, allocate_range
from chalicelib.domain.errors import DomainError, InvalidInput, NotFound
from chalicelib.domain.period import Period
from chalicelib.domain.tax_registry import RegistrationStatus
from chalicelib.domain.ubn import validate_ubn
from chalicelib.web.pages import PageContext, page
from chalicelib.web.rendering import taiwan_time

if TYPE_CHECKING:
    from chalicelib.services.staff_overview import AllocatedRange

bp = Blueprint(__name__)

RECORD_FIELDS = ("ubn", "name", "address", "status")
ALLOCATION_FIELDS = ("ubn", "period", "invoice_type", "track", "begin_no", "end_no")
#: Imported businesses listed on the import result (the counts are always complete).
SHOWN_IMPORTED = 200


def _errors(
    ctx: PageContext, exc: DomainError | ValidationError, rename: dict[str, str] | None = None
) -> dict[str, str]:
    """A service's or a model's error keyed by the input it names (``rename`` maps API names to inputs)."""
    return {(rename or {}).get(name, name): text for name, text in ctx.field_errors(exc).items()}


def _status_options(ctx: PageContext) -> list[tuple[str, str]]:
    return [
        (RegistrationStatus.ACTIVE.value, ctx.t("營業中", "Active")),
        (RegistrationStatus.SUSPENDED.value, ctx.t("停業", "Suspended")),
        (RegistrationStatus.CLOSED.value, ctx.t("歇業／註銷", "Closed")),
    ]


def _render(ctx: PageContext, template: str, status: int = 200, **variables: Any) -> Response:
    return ctx.render(template, status=status, when=taiwan_time, **variables)


def _sign_in_address(ctx: PageContext) -> str:
    host = str(ctx.request.headers.get("host") or "")
    scheme = "https" if ctx.policy.secure else "http"
    return f"{scheme}://{host}{ctx.url('/login')}" if host else ctx.url("/login")


# --- home -------------------------------------------------------------------------------------------


@page(bp, "/staff", auth="staff")
def staff_home(ctx: PageContext) -> Response:
    overview = deps.staff_overview()
    current = overview.current_period()
    ended = current.previous()
    jobs = overview.jobs(ended)
    return _render(
        ctx,
        "staff_home.html",
        current=current.code,
        allocated=overview.allocation_count(current),
        ended=ended.code,
        jobs_done=sum(job.done for job in jobs),
        jobs_total=len(jobs),
    )


# --- the tax registry -------------------------------------------------------------------------------


@page(bp, "/staff/registry", auth="staff")
def registry(ctx: PageContext) -> Response:
    ubn = ctx.query.get("ubn", "").strip()
    if not ubn:
        return _render(ctx, "staff/registry.html", searched="", errors={}, values={})
    try:
        tax_registry_service().get(ubn)
    except NotFound:
        return _render(ctx, "staff/registry.html", searched=ubn, errors={}, values={"ubn": ubn})
    except DomainError as exc:
        return _render(
            ctx, "staff/registry.html", status=422, searched="", errors=_errors(ctx, exc), values={"ubn": ubn}
        )
    return ctx.redirect(f"/staff/registry/{ubn}")


def _record_form(ctx: PageContext, template: str, status: int = 200, **variables: Any) -> Response:
    return _render(ctx, template, status=status, status_options=_status_options(ctx), **variables)


@page(bp, "/staff/registry/new", ("GET", "POST"), auth="staff")
def registry_new(ctx: PageContext) -> Response:
    if ctx.request.method == "GET":
        values = {"ubn": ctx.query.get("ubn", "").strip(), "status": RegistrationStatus.ACTIVE.value}
        return _new_form(ctx, 200, {}, values)
    values = {name: ctx.form.get(name).strip() for name in RECORD_FIELDS}
    service = tax_registry_service()
    try:
        validate_ubn(values["ubn"], "ubn")
        body = RegistryRecordRequest.model_validate({k: values[k] for k in ("name", "address", "status")})
        if _registered(values["ubn"]):
            return _new_form(ctx, 422, {}, values, exists=True)
        service.upsert_registration(values["ubn"], body.name, body.address, body.status, principal=ctx.me)
    except (DomainError, ValidationError) as exc:
        return _new_form(ctx, 422, _errors(ctx, exc), values)
    return ctx.redirect(f"/staff/registry/{values['ubn']}?saved=1")


def _new_form(
    ctx: PageContext, status: int, errors: dict[str, str], values: dict[str, str], exists: bool = False
) -> Response:
    return _record_form(ctx, "staff/registry_new.html", status, errors=errors, values=values, exists=exists)


def _registered(ubn: str) -> bool:
    """Whether the registry has the UBN: a new record must not silently replace an existing one."""
    try:
        tax_registry_service().get(ubn)
    except NotFound:
        return False
    return True


def _business(ctx: PageContext, ubn: str, status: int = 200, **variables: Any) -> Response:
    entry = tax_registry_service().get(ubn)
    shown: dict[str, Any] = {
        "errors": {},
        "values": {"name": entry.name, "address": entry.address, "status": entry.status.value},
        "issue_error": "",
        "saved": ctx.query.get("saved") == "1",
        **variables,
    }
    return _record_form(
        ctx, "staff/business.html", status, entry=entry, account=deps.staff_overview().account(ubn), **shown
    )


@page(bp, "/staff/registry/import", ("GET", "POST"), auth="staff")
def registry_import(ctx: PageContext) -> Response:
    if ctx.request.method == "GET":
        return _import_page(ctx, errors={}, values={})
    values = {"status": ctx.form.get("status")}
    upload = ctx.form.file("file")
    if upload is None:
        return _import_page(ctx, 422, errors={"file": ctx.t("請選擇 CSV 檔案", "Choose the CSV file")}, values=values)
    try:
        override = RegistrationStatus(values["status"]) if values["status"] else None
    except ValueError:
        return _import_page(ctx, 422, errors={"status": ctx.t("請選擇狀態", "Choose a status")}, values=values)
    try:
        result = tax_registry_service().import_registry_csv(upload.data, override, principal=ctx.me)
    except DomainError as exc:
        return _import_page(ctx, 422, errors=_errors(ctx, exc, {"body": "file"}), values=values)
    from chalicelib.documents.registry_csv import parse_registry_csv

    # The service answers with counts and the rejected rows; the businesses written are listed
    # from the same file so staff can open each record.
    imported = parse_registry_csv(upload.data).records[:SHOWN_IMPORTED]
    return _import_page(ctx, errors={}, values=values, result=result, imported=imported, filename=upload.filename)


def _import_page(ctx: PageContext, status: int = 200, **variables: Any) -> Response:
    from chalicelib.documents.registry_csv import REQUIRED_COLUMNS

    shown: dict[str, Any] = {"result": None, "imported": [], "filename": "", **variables}
    options = [("", ctx.t("依檔案", "As the file says"))]
    return _render(
        ctx,
        "staff/import.html",
        status=status,
        required_columns=REQUIRED_COLUMNS,
        status_options=options + _status_options(ctx),
        **shown,
    )


@page(bp, "/staff/registry/{ubn}", ("GET", "POST"), auth="staff")
def business(ctx: PageContext, ubn: str) -> Response:
    if ctx.request.method == "GET":
        return _business(ctx, ubn)
    values = {name: ctx.form.get(name).strip() for name in ("name", "address", "status")}
    entry = tax_registry_service().get(ubn)  # 404 before any change to a UBN the registry lacks
    try:
        body = RegistryRecordRequest.model_validate(values)
        tax_registry_service().upsert_registration(entry.ubn, body.name, body.address, body.status, principal=ctx.me)
    except (DomainError, ValidationError) as exc:
        return _business(ctx, ubn, 422, errors=_errors(ctx, exc), values=values)
    return ctx.redirect(f"/staff/registry/{ubn}?saved=1")


@page(bp, "/staff/registry/{ubn}/credentials", ("POST",), auth="staff")
def issue_credentials(ctx: PageContext, ubn: str) -> Response:
    """The business's account with an initial password, shown on this answer only (as the API's
    POST /v1/admin/merchants/{ubn}/credentials): it is never stored readable, so it cannot be shown again."""
    staff = ctx.me
    entry = tax_registry_service().get(ubn)
    try:
        password = deps.registration_service().issue_initial_credentials(ubn, actor=staff.actor, issued_by=staff.owner)
    except DomainError as exc:
        return _business(ctx, ubn, 422, issue_error=ctx.field_errors(exc)[exc.field or "_"])
    return _render(ctx, "staff/credentials.html", entry=entry, password=password, sign_in_address=_sign_in_address(ctx))


# --- allocation (配號) -------------------------------------------------------------------------------


def _allocations(ctx: PageContext, status: int = 200, **variables: Any) -> Response:
    overview = deps.staff_overview()
    query = {k: ctx.query.get(k, "").strip() for k in ("period", "ubn", "track")}
    query["track"] = query["track"].upper()
    list_errors: dict[str, str] = {}
    rows: list[AllocatedRange] = []
    more = False
    period = overview.current_period()
    try:
        period = Period.parse(query["period"], "period") if query["period"] else period
        rows, more = overview.allocations(period, ubn=query["ubn"] or None, track=query["track"] or None)
    except DomainError as exc:
        list_errors = _errors(ctx, exc)
        status = max(status, 422)
    shown: dict[str, Any] = {
        "errors": {},
        "values": {"ubn": query["ubn"], "period": period.code, "invoice_type": "07"},
        "allocated": None,
        **variables,
    }
    return _render(
        ctx,
        "staff/allocations.html",
        status=status,
        period=period.code,
        query=query,
        list_errors=list_errors,
        rows=rows,
        more=more,
        type_options=[("07", ctx.t("07 一般稅額", "07 General tax")), ("08", ctx.t("08 特種稅額", "08 Special tax"))],
        **shown,
    )


@page(bp, "/staff/allocations", ("GET", "POST"), auth="staff")
def allocations(ctx: PageContext) -> Response:
    if ctx.request.method == "GET":
        allocated = ctx.query.get("allocated", "")
        return _allocations(ctx, allocated=allocated or None, created=ctx.query.get("created") != "0")
    values = {name: ctx.form.get(name).strip() for name in ALLOCATION_FIELDS}
    values["track"] = values["track"].upper()
    try:
        body = AllocationRequest.model_validate(values)
        view, created = allocate_range(body, ctx.actor)
    except (DomainError, ValidationError) as exc:
        return _allocations(ctx, 422, errors=_errors(ctx, exc), values=values)
    return ctx.redirect(
        f"/staff/allocations?period={view.period}&ubn={body.ubn}&allocated={view.track_id}&created={int(created)}"
    )


# --- period jobs ------------------------------------------------------------------------------------


def _jobs(ctx: PageContext, code: str, status: int = 200, **variables: Any) -> Response:
    overview = deps.staff_overview()
    shown: dict[str, Any] = {"errors": {}, "report": None, "asked": code, **variables}
    try:
        period = Period.parse(code, "period") if code else overview.current_period().previous()
    except DomainError as exc:
        period = overview.current_period().previous()
        shown["errors"] = _errors(ctx, exc)
        status = max(status, 422)
    shown["asked"] = shown["asked"] or period.code
    return _render(ctx, "staff/jobs.html", status=status, period=period.code, jobs=overview.jobs(period), **shown)


@page(bp, "/staff/jobs", auth="staff")
def jobs(ctx: PageContext) -> Response:
    return _jobs(ctx, ctx.query.get("period", "").strip())


@page(bp, "/staff/jobs/{job}", ("POST",), auth="staff")
def run_job(ctx: PageContext, job: str) -> Response:
    """Run one job now, as POST /v1/admin/jobs/{job} does: it goes on where the last run stopped."""
    from chalicelib.services.period_close import JOBS, unknown_job

    if job not in JOBS:
        raise unknown_job(job)
    code = ctx.form.get("period").strip()
    try:
        period = Period.parse(code, "period")
        report = deps.period_jobs().run(job, period, deps.time_budget(RECONCILE_SECONDS))
    except DomainError as exc:
        return _jobs(ctx, code if _is_period(code) else "", 422, errors=_errors(ctx, exc), asked=code)
    return _jobs(ctx, period.code, report=asdict(report))


def _is_period(code: str) -> bool:
    try:
        Period.parse(code)
    except InvalidInput:
        return False
    return True
