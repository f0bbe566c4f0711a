"""System announcements (系統公告): staff write, schedule and withdraw them; anyone reads the
published ones addressed to every merchant; a signed-in merchant reads its own and marks them read.

The status (draft, scheduled, published, expired, withdrawn) is never stored: it follows from the
clock, so a scheduled announcement appears at its publish time without any job running.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from chalice.app import Blueprint, CloudWatchEvent, Rate
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from chalicelib.api import deps
from chalicelib.api.routing import operation
from chalicelib.domain.announcement import Announcement, Kind, Status
from chalicelib.services.announcements import AnnouncementService
from chalicelib.services.principal import Principal

bp = Blueprint(__name__)
STAFF_TAG = "Tax office staff"
TAG = "Announcements"

Ubn = Annotated[str, Field(pattern=r"^[0-9]{8}$", description="統一編號 of one addressed merchant")]
Title = Annotated[str, Field(min_length=1, max_length=120)]
Body = Annotated[str, Field(min_length=1, max_length=4000)]

_EXAMPLE: dict[str, Any] = {
    "kind": "maintenance",
    "title_zh": "系統維護通知",
    "title_en": "Scheduled maintenance",
    "body_zh": "本平臺將於 12 月 20 日 00:00 至 02:00 進行系統維護，期間暫停開立發票。",
    "body_en": "The platform is down for maintenance on 20 December, 00:00-02:00; invoices cannot be issued.",
    "publish_at": "2026-12-18T09:00:00+08:00",
    "expire_at": "2026-12-20T02:00:00+08:00",
    "starts_at": "2026-12-20T00:00:00+08:00",
    "ends_at": "2026-12-20T02:00:00+08:00",
    "audience": "all",
}


# Well inside the schedule's Lambda timeout; a run cut short resumes from its saved place.
ANNOUNCEMENT_EVENTS_BUDGET_S = 45.0


def announcement_service() -> AnnouncementService:
    return deps.announcement_service()


class AnnouncementRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [_EXAMPLE]})

    kind: Kind = Field(description="policy (稅務政策), maintenance (系統維護) or system (系統公告)")
    title_zh: Title = Field(description="標題 (zh-TW)")
    title_en: Title = Field(description="Title (English)")
    body_zh: Body = Field(description="內容 (zh-TW)")
    body_en: Body = Field(description="Body (English)")
    publish_at: AwareDatetime | None = Field(
        default=None, description="When it becomes visible; omitted: a draft nobody but staff sees"
    )
    expire_at: AwareDatetime | None = Field(default=None, description="When it stops being shown")
    starts_at: AwareDatetime | None = Field(default=None, description="Maintenance window start (maintenance only)")
    ends_at: AwareDatetime | None = Field(default=None, description="Maintenance window end (maintenance only)")
    audience: Literal["all"] | list[Ubn] = Field(
        default="all", description='"all" merchants, or the UBNs it is addressed to'
    )


class AnnouncementChanges(BaseModel):
    """Only the fields sent change; ``null`` clears an optional time (publish_at null: back to draft)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"title_en": "Scheduled maintenance (moved)", "publish_at": None}]},
    )

    kind: Kind | None = None
    title_zh: Title | None = None
    title_en: Title | None = None
    body_zh: Body | None = None
    body_en: Body | None = None
    publish_at: AwareDatetime | None = None
    expire_at: AwareDatetime | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    audience: Literal["all"] | list[Ubn] | None = None


class AnnouncementView(BaseModel):
    id: str
    kind: Kind
    status: Status
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    publish_at: datetime | None
    expire_at: datetime | None
    starts_at: datetime | None
    ends_at: datetime | None
    audience: Literal["all"] | list[str]
    created_by: str
    created_at: datetime | None
    updated_by: str
    updated_at: datetime | None


class PublicAnnouncement(BaseModel):
    id: str
    kind: Kind
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    publish_at: datetime | None
    expire_at: datetime | None
    starts_at: datetime | None
    ends_at: datetime | None


class MerchantAnnouncement(PublicAnnouncement):
    read: bool = Field(description="Whether this merchant has marked it read")


class AnnouncementList(BaseModel):
    items: list[AnnouncementView] = Field(description="Every announcement in any state, newest first")


class PublicPage(BaseModel):
    items: list[PublicAnnouncement] = Field(description="Published, newest first")
    next_cursor: str | None


class MerchantList(BaseModel):
    items: list[MerchantAnnouncement] = Field(description="Published for all or for this UBN, newest first")
    unread: int = Field(ge=0)


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=2000)


def _public_fields(a: Announcement) -> dict[str, Any]:
    return {
        "id": a.id,
        "kind": a.kind,
        "title_zh": a.title_zh,
        "title_en": a.title_en,
        "body_zh": a.body_zh,
        "body_en": a.body_en,
        "publish_at": a.publish_at,
        "expire_at": a.expire_at,
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
    }


def staff_view(a: Announcement, now: datetime) -> AnnouncementView:
    return AnnouncementView(
        **_public_fields(a),
        status=a.status(now),
        audience="all" if a.for_everyone else list(a.audience),
        created_by=a.created_by,
        created_at=a.created_at,
        updated_by=a.updated_by,
        updated_at=a.updated_at,
    )


def merchant_view(a: Announcement, read: bool) -> MerchantAnnouncement:
    return MerchantAnnouncement(**_public_fields(a), read=read)


def domain_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Request fields as the domain's: ``audience`` "all" is the empty tuple."""
    fields = dict(values)
    if "audience" in fields:
        audience = fields["audience"]
        fields["audience"] = () if audience in ("all", None) else tuple(dict.fromkeys(audience))
    return fields


@operation(
    bp,
    "/v1/admin/announcements",
    "POST",
    summary="Publish or schedule a system announcement (系統公告) in zh-TW and English",
    tag=STAFF_TAG,
    description="Without publish_at it is a draft; with a future publish_at it is scheduled.",
    body=AnnouncementRequest,
    response=AnnouncementView,
    status=201,
    auth="staff",
    errors=(400, 401, 403),
)
def create(body: AnnouncementRequest, principal: Principal) -> AnnouncementView:
    service = announcement_service()
    created = service.create(domain_fields(body.model_dump()), principal.actor, principal.owner)
    return staff_view(created, service.now())


@operation(
    bp,
    "/v1/admin/announcements",
    summary="Every announcement with its status (draft, scheduled, published, expired, withdrawn)",
    tag=STAFF_TAG,
    response=AnnouncementList,
    auth="staff",
    errors=(401, 403),
)
def list_all(principal: Principal) -> AnnouncementList:
    del principal  # any staff member may read them
    service = announcement_service()
    now = service.now()
    return AnnouncementList(items=[staff_view(a, now) for a in service.everything()])


@operation(
    bp,
    "/v1/admin/announcements/{announcement_id}",
    "PATCH",
    summary="Edit or reschedule an announcement",
    tag=STAFF_TAG,
    body=AnnouncementChanges,
    response=AnnouncementView,
    auth="staff",
    errors=(400, 401, 403, 404),
)
def update(announcement_id: str, body: AnnouncementChanges, principal: Principal) -> AnnouncementView:
    service = announcement_service()
    changed = service.update(
        announcement_id, domain_fields(body.model_dump(exclude_unset=True)), principal.actor, principal.owner
    )
    return staff_view(changed, service.now())


def _withdraw(announcement_id: str, principal: Principal) -> AnnouncementView:
    service = announcement_service()
    return staff_view(service.withdraw(announcement_id, principal.actor, principal.owner), service.now())


@operation(
    bp,
    "/v1/admin/announcements/{announcement_id}/withdraw",
    "POST",
    summary="Withdraw an announcement: nobody but staff sees it any more",
    tag=STAFF_TAG,
    response=AnnouncementView,
    auth="staff",
    errors=(401, 403, 404),
)
def withdraw(announcement_id: str, principal: Principal) -> AnnouncementView:
    return _withdraw(announcement_id, principal)


@operation(
    bp,
    "/v1/admin/announcements/{announcement_id}",
    "DELETE",
    summary="Withdraw an announcement (the contract's DELETE; same as POST .../withdraw, kept for staff)",
    tag=STAFF_TAG,
    response=AnnouncementView,
    auth="staff",
    errors=(401, 403, 404),
)
def delete(announcement_id: str, principal: Principal) -> AnnouncementView:
    return _withdraw(announcement_id, principal)


@operation(
    bp,
    "/v1/announcements",
    summary="Published announcements for every merchant, newest first (public)",
    tag=TAG,
    query=PageQuery,
    response=PublicPage,
    auth="public",
    errors=(400,),
)
def public_list(query: PageQuery) -> PublicPage:
    page = announcement_service().public_page(query.limit, query.cursor)
    return PublicPage(items=[PublicAnnouncement(**_public_fields(a)) for a in page.items], next_cursor=page.next_cursor)


@operation(
    bp,
    "/v1/announcements/{announcement_id}",
    summary="One published announcement for every merchant (public)",
    tag=TAG,
    response=PublicAnnouncement,
    auth="public",
    errors=(404,),
)
def public_one(announcement_id: str) -> PublicAnnouncement:
    return PublicAnnouncement(**_public_fields(announcement_service().public_one(announcement_id)))


@operation(
    bp,
    "/v1/merchant/announcements",
    summary="The merchant's announcements (for all and for its UBN), each read or unread",
    tag=TAG,
    response=MerchantList,
    auth="merchant",
    errors=(401, 403),
)
def merchant_list(principal: Principal) -> MerchantList:
    entries = announcement_service().for_merchant(principal.ubn)
    return MerchantList(items=[merchant_view(a, r) for a, r in entries], unread=sum(not r for _, r in entries))


@operation(
    bp,
    "/v1/merchant/announcements/{announcement_id}/read",
    "POST",
    summary="Mark one announcement read for this merchant",
    tag=TAG,
    response=MerchantAnnouncement,
    auth="merchant",
    errors=(401, 403, 404),
)
def mark_read(announcement_id: str, principal: Principal) -> MerchantAnnouncement:
    return merchant_view(announcement_service().mark_read(principal.ubn, announcement_id), True)


@bp.schedule(
    Rate(1, unit=Rate.MINUTES),
    name="announcement_events",
    description="Tell each merchant of a newly published announcement (announcement.published)",
)
def scheduled_announcement_events(event: CloudWatchEvent) -> None:
    del event
    deps.announcement_events().run(deps.time_budget(ANNOUNCEMENT_EVENTS_BUDGET_S))
