"""The merchant's notification inbox (通知): list, unread count, mark read."""

from __future__ import annotations

from typing import Any, Literal

from chalice.app import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api import deps
from chalicelib.api.routing import operation
from chalicelib.domain.merchant import MerchantSettings
from chalicelib.domain.notifications import NOTICE_KINDS
from chalicelib.services.merchant_profile import ProfileUpdate
from chalicelib.services.principal import Principal

bp = Blueprint(__name__)
TAG = "Notifications"
SCOPE = "notifications:read"

_EXAMPLE: dict[str, Any] = {
    "id": "ntc_20261207T031500123456a1b2c3",
    "kind": "low_stock",
    "title_zh": "字軌號碼即將用完",
    "title_en": "Invoice numbers running low",
    "body_zh": "開立通路 api 在 11512 期僅剩 8 個號碼，請取號並指派字軌本。",
    "body_en": "Channel api has 8 numbers left for period 11512: activate and assign more booklets.",
    "link": "/console/tracks",
    "data": {"channel": "api", "period": "11512", "remaining": 8},
    "created_at": "2026-12-07T11:15:00+08:00",
    "read": False,
    "read_at": None,
    "channels": {"email": {"status": "elsewhere"}, "sms": {"status": "off"}},
}


class NotificationView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    id: str
    kind: str = Field(description="One of: " + ", ".join(NOTICE_KINDS))
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    link: str | None = Field(description="Where in the console to act on it")
    data: dict[str, Any]
    created_at: str
    read: bool
    read_at: str | None = None
    channels: dict[str, Any] = Field(
        description="How it was sent besides the inbox, per channel: sent, off (settings), no_address, failed, "
        "or elsewhere (the notice's own mail)"
    )


class NotificationPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_EXAMPLE], "next_cursor": None, "unread_count": 1}]}
    )

    items: list[NotificationView] = Field(description="Newest first")
    next_cursor: str | None
    unread_count: int = Field(ge=0)


class UnreadCount(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"unread_count": 3}]})

    unread_count: int = Field(ge=0)


class MarkedAll(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"marked": 3, "unread_count": 0}]})

    marked: int = Field(ge=0, description="How many this request marked read")
    unread_count: int = Field(ge=0)


class NotificationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=2000)
    unread: Literal["true", "false"] | None = Field(default=None, description="true: only unread ones")
    kind: str | None = Field(default=None, max_length=40, description="Only this kind")


def notification_view(item: dict[str, Any]) -> NotificationView:
    return NotificationView.model_validate({name: item.get(name) for name in NotificationView.model_fields})


@operation(
    bp,
    "/v1/notifications",
    summary="The merchant's notifications, newest first, with the unread count",
    tag=TAG,
    query=NotificationQuery,
    response=NotificationPage,
    auth="merchant",
    scope=SCOPE,
    errors=(400, 401, 403),
)
def list_notifications(query: NotificationQuery, principal: Principal) -> NotificationPage:
    page = deps.notices().page(
        principal.ubn, limit=query.limit, cursor=query.cursor, unread_only=query.unread == "true", kind=query.kind
    )
    return NotificationPage(
        items=[notification_view(i) for i in page.items], next_cursor=page.next_cursor, unread_count=page.unread_count
    )


@operation(
    bp,
    "/v1/notifications/unread-count",
    summary="How many notifications are unread",
    tag=TAG,
    response=UnreadCount,
    auth="merchant",
    scope=SCOPE,
    errors=(401, 403),
)
def unread_count(principal: Principal) -> UnreadCount:
    return UnreadCount(unread_count=deps.notices().unread(principal.ubn))


@operation(
    bp,
    "/v1/notifications/read-all",
    "POST",
    summary="Mark every notification read",
    tag=TAG,
    response=MarkedAll,
    auth="merchant",
    scope=SCOPE,
    errors=(401, 403),
)
def read_all(principal: Principal) -> MarkedAll:
    notifier = deps.notices()
    marked = notifier.mark_all_read(principal.ubn)
    return MarkedAll(marked=marked, unread_count=notifier.unread(principal.ubn))


@operation(
    bp,
    "/v1/notifications/{notification_id}",
    summary="One notification",
    tag=TAG,
    response=NotificationView,
    auth="merchant",
    scope=SCOPE,
    errors=(401, 403, 404),
)
def get_notification(notification_id: str, principal: Principal) -> NotificationView:
    return notification_view(deps.notices().get(principal.ubn, notification_id))


@operation(
    bp,
    "/v1/notifications/{notification_id}/read",
    "POST",
    summary="Mark one notification read (again is harmless)",
    tag=TAG,
    response=NotificationView,
    auth="merchant",
    scope=SCOPE,
    errors=(401, 403, 404),
)
def mark_read(notification_id: str, principal: Principal) -> NotificationView:
    return notification_view(deps.notices().mark_read(principal.ubn, notification_id))


class ChannelsView(BaseModel):
    email: bool
    sms: bool


_SETTINGS_EXAMPLE: dict[str, Any] = {
    "low_stock": {"email": True, "sms": True},
    "announcement": {"email": False, "sms": False},
}


class NotificationSettings(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"kinds": _SETTINGS_EXAMPLE}]})

    kinds: dict[str, ChannelsView] = Field(description="Per kind: also by email / SMS (the inbox always gets it)")


class NotificationSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"kinds": _SETTINGS_EXAMPLE}]})

    kinds: dict[str, dict[str, bool]] = Field(
        description="The kinds to change (" + ", ".join(NOTICE_KINDS) + "); the others keep their setting"
    )


def _settings_view(ubn: str) -> NotificationSettings:
    settings = _settings_of(ubn)
    return NotificationSettings(
        kinds={kind: ChannelsView(**settings.channels(kind).model_dump()) for kind in NOTICE_KINDS}
    )


@operation(
    bp,
    "/v1/notifications/settings",
    summary="Where each kind of notice goes besides the inbox (email, SMS)",
    tag=TAG,
    response=NotificationSettings,
    auth="merchant",
    scope=SCOPE,
    errors=(401, 403),
)
def get_settings(principal: Principal) -> NotificationSettings:
    return _settings_view(principal.ubn)


@operation(
    bp,
    "/v1/notifications/settings",
    "PUT",
    summary="Choose where kinds of notice go besides the inbox",
    tag=TAG,
    body=NotificationSettingsUpdate,
    response=NotificationSettings,
    auth="merchant",
    errors=(400, 401, 403),
)
def put_settings(body: NotificationSettingsUpdate, principal: Principal) -> NotificationSettings:
    current = _settings_of(principal.ubn)
    merged = {kind: channels.model_dump() for kind, channels in current.notifications.items()}
    for kind, change in body.kinds.items():
        merged[kind] = {**current_channels(current, kind), **change}
    deps.profile_service().update(
        principal.ubn, ProfileUpdate(settings={"notifications": merged}), actor=principal.actor
    )
    return _settings_view(principal.ubn)


def current_channels(settings: MerchantSettings, kind: str) -> dict[str, bool]:
    """``kind``'s channels now; an unknown kind is left for the settings model to refuse by name."""
    return settings.channels(kind).model_dump() if kind in NOTICE_KINDS else {}


def _settings_of(ubn: str) -> MerchantSettings:
    profile = deps.merchants().profile(ubn)
    return profile.settings if profile is not None else MerchantSettings()
