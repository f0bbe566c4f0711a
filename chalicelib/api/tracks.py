"""Track (字軌) routes for merchants, and the staff allocation (配號) route."""

from __future__ import annotations

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.api import deps
from chalicelib.api.errors import ApiError, json_response, xml_response
from chalicelib.api.routing import operation
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.validation import as_pydantic_error
from chalicelib.services.principal import Principal
from chalicelib.services.tracks import BlankReport, ChannelAssignment, RangeView, blank_summary

bp = Blueprint(__name__)
TAG = "Tracks"


def _period(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return Period.parse(value).code
    except InvalidInput as error:
        raise as_pydantic_error(InvalidInput(error.code, error.message, error.message_zh, None)) from None


class PeriodQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str | None = Field(default=None, description="期別 such as 11412; defaults to the current period")

    @field_validator("period")
    @classmethod
    def _check(cls, value: str | None) -> str | None:
        return _period(value)


class BlankReportQuery(PeriodQuery):
    track: str | None = Field(default=None, description="The track (字軌) when the period has several")
    format: str | None = Field(default=None, pattern="^(xml|json)$", description="xml (default) or json")


class TrackList(BaseModel):
    items: list[RangeView]
    next_cursor: str | None = None


class ActivateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    booklets: int | None = Field(default=None, ge=1, le=100_000, description="How many booklets; all if omitted")


class AllocationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ubn: str = Field(min_length=1, max_length=8)
    period: str = Field(min_length=1, max_length=5)
    invoice_type: str = Field(min_length=1, max_length=2)
    track: str = Field(min_length=1, max_length=2)
    begin_no: str = Field(min_length=1, max_length=8)
    end_no: str = Field(min_length=1, max_length=8)


class AllocationResponse(RangeView):
    ubn: str
    created: bool = Field(description="False when exactly this range was already allocated (a harmless retry)")


def allocate_range(body: AllocationRequest, actor: str) -> tuple[RangeView, bool]:
    """配號, for this route and the tax office's allocation page: the range, and whether it is new."""
    return deps.track_service().allocate(
        ubn=body.ubn,
        period=body.period,
        invoice_type=body.invoice_type,
        track=body.track,
        begin_no=body.begin_no,
        end_no=body.end_no,
        actor=actor,
    )


def _current_period(value: str | None) -> Period:
    return Period.parse(value) if value else Period.from_date(deps.clock.now().astimezone(TAIWAN_TZ).date())


@operation(
    bp,
    "/v1/tracks",
    summary="Your ranges and booklets for a period: status, channel, next number, used, remaining",
    tag=TAG,
    query=PeriodQuery,
    response=TrackList,
    auth="merchant",
    scope="tracks:read",
)
def list_tracks(query: PeriodQuery, principal: Principal) -> TrackList:
    return TrackList(items=deps.track_service().overview(principal.ubn, _current_period(query.period)))


@operation(
    bp,
    "/v1/tracks/import",
    "POST",
    summary="Load your allocation file from the MOF platform: E0501 XML or the platform's CSV (Big5)",
    description="Loading the same file again is harmless. A range that overlaps anyone's refuses the whole file.",
    tag=TAG,
    auth="merchant",
    content_types=("application/xml", "text/xml", "text/csv"),
    raw_body="E0501 XML (application/xml) or the platform's allocation CSV (text/csv, Big5 or UTF-8)",
    errors=(409, 422),
)
def import_tracks(principal: Principal) -> Response:
    request = bp.current_request
    raw = request.raw_body or b""
    data = raw.encode() if isinstance(raw, str) else raw
    result = deps.track_service().import_file(
        principal.ubn, data, request.headers.get("content-type", ""), actor=principal.actor
    )
    return json_response(result, 201 if result["imported"] else 200)


@operation(
    bp,
    "/v1/tracks/{track_id}/activate",
    "POST",
    summary="取號: activate booklets of an allocated range for the period",
    tag=TAG,
    body=ActivateRequest,
    response=RangeView,
    auth="merchant",
    errors=(404, 422),
)
def activate(track_id: str, body: ActivateRequest, principal: Principal) -> RangeView:
    return deps.track_service().activate(principal.ubn, track_id, body.booklets, actor=principal.actor)


@operation(
    bp,
    "/v1/tracks/{track_id}/channels",
    "PUT",
    summary="Assign activated booklets to issuing channels: online, api, pos:<device>",
    description="Each channel takes numbers only from its own booklets, in order; new booklets queue after "
    "the ones it has.",
    tag=TAG,
    body=ChannelAssignment,
    response=RangeView,
    auth="merchant",
    errors=(404, 409, 422),
)
def assign_channels(track_id: str, body: ChannelAssignment, principal: Principal) -> RangeView:
    return deps.track_service().assign(principal.ubn, track_id, body, actor=principal.actor)


@operation(
    bp,
    "/v1/tracks/blank-report",
    summary="E0402 blank-number report: every unused range of the period (XML; format=json for a summary)",
    tag=TAG,
    query=BlankReportQuery,
    auth="merchant",
    scope="tracks:read",
    response_content_type="application/xml",
    errors=(400,),
)
def blank_report(query: BlankReportQuery, principal: Principal) -> Response:
    period = _current_period(query.period)
    service = deps.track_service()
    reports = service.blank_report(principal.ubn, period)
    if query.track:
        reports = [r for r in reports if r.track == query.track]
    closed = service.period_ended(period)
    if query.format == "json":
        return json_response(blank_summary(period, reports, final=closed, calendar=deps.working_calendar()))
    if len(reports) != 1:
        tracks = ", ".join(sorted({r.track for r in reports})) or "none"
        raise ApiError(
            400,
            "TRACK_REQUIRED" if reports else "NO_BLANK_NUMBERS",
            f"One E0402 file per track: choose track= ({tracks}), or use format=json",
            f"每個字軌一個 E0402 檔：請指定 track=（{tracks}），或使用 format=json",
            "track",
        )
    return e0402_download(period, reports[0], final=closed)


def e0402_download(period: Period, report: BlankReport, *, final: bool) -> Response:
    """One track's E0402 file as a download; the header says whether the period's report is final."""
    return xml_response(
        report.xml,
        f"E0402-{period.code}-{report.track}.xml",
        attachment=True,
        headers={"X-Report-Final": "true" if final else "false"},
    )


@operation(
    bp,
    "/v1/admin/allocations",
    "POST",
    summary="配號: allocate a range to a business; ranges overlapping anyone's are refused",
    tag="Tax office",
    body=AllocationRequest,
    response=AllocationResponse,
    status=201,
    auth="staff",
    errors=(409, 422),
)
def allocate(body: AllocationRequest, principal: Principal) -> Response:
    view, created = allocate_range(body, principal.actor)
    payload = {**view.model_dump(mode="json"), "ubn": body.ubn, "created": created}
    return json_response(payload, 201 if created else 200)
