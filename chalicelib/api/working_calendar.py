"""Staff routes for the working calendar: override a day (颱風假 typhoon day off, an announced
change of the office calendar). Every deadline the platform computes (filing, cancel, E0402,
reminders, the overdue mark) moves by this calendar at once (domain.working_days)."""

from __future__ import annotations

from datetime import date

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.adapters.dynamo_calendar import DynamoCalendarOverrides
from chalicelib.api import deps
from chalicelib.api.routing import operation
from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.services.principal import Principal

bp = Blueprint(__name__)
TAG = "Tax office staff"


class DayOverrideRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"working": False, "reason": "颱風假（台北市） typhoon day off"}]},
    )

    working: bool = Field(description="true: a working day (上班日); false: a day off (放假)")
    reason: str = Field(min_length=1, max_length=200, description="Why, as announced (e.g. 颱風假, 補行上班)")


class DayOverride(BaseModel):
    day: date
    working: bool
    reason: str
    set_by: str
    set_at: str


class DayOverrides(BaseModel):
    overrides: list[DayOverride] = Field(description="Every overridden day, oldest first")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            "INVALID_DATE",
            f"day must be a date as YYYY-MM-DD, not {value!r}.",
            "日期（day）須為 YYYY-MM-DD 格式。",
            "day",
        ) from None


@operation(
    bp,
    "/v1/admin/calendar/{day}",
    "PUT",
    summary="Override one day of the working calendar (typhoon day off, announced change)",
    tag=TAG,
    description=(
        "The day overrides the Taiwan office calendar (行政院人事行政總處) the platform reads from the "
        "holidays package. Deadlines that fall on a day off move to the next working day."
    ),
    body=DayOverrideRequest,
    response=DayOverride,
    auth="staff",
    errors=(400, 401, 403),
)
def put_day(day: str, body: DayOverrideRequest, principal: Principal) -> DayOverride:
    at = deps.clock.now().isoformat()
    item = DynamoCalendarOverrides().put(
        _day(day), working=body.working, reason=body.reason, actor=principal.actor, at=at
    )
    deps.audit_log().record(principal.owner, "calendar_day_overridden", principal.actor, item)
    return DayOverride.model_validate(item)


@operation(
    bp,
    "/v1/admin/calendar/{day}",
    "DELETE",
    summary="Remove a day's override: the office calendar applies again",
    tag=TAG,
    status=204,
    auth="staff",
    errors=(400, 401, 403, 404),
)
def delete_day(day: str, principal: Principal) -> Response:
    parsed = _day(day)
    if not DynamoCalendarOverrides().delete(parsed):
        raise NotFound(
            "DAY_NOT_OVERRIDDEN", f"{parsed.isoformat()} has no override.", f"{parsed.isoformat()} 未設定調整。", "day"
        )
    deps.audit_log().record(principal.owner, "calendar_override_removed", principal.actor, {"day": parsed.isoformat()})
    return Response(body="", status_code=204)


@operation(
    bp,
    "/v1/admin/calendar",
    summary="The days staff have overridden in the working calendar",
    tag=TAG,
    response=DayOverrides,
    auth="staff",
    errors=(401, 403),
)
def list_days(principal: Principal) -> DayOverrides:
    del principal  # any staff member may read them
    return DayOverrides(overrides=[DayOverride.model_validate(o) for o in DynamoCalendarOverrides().all()])
