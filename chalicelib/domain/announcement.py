"""System announcements (系統公告): tax-policy updates, maintenance windows, platform notices.

Pure rules: an announcement's status follows from the clock and its withdrawn flag (it is never
stored), who may see it follows from its audience, and a maintenance window near enough to the
present is shown as a banner on every console page.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.errors import InvalidInput

#: A maintenance window this close ahead already earns the banner: a day's notice lets a merchant
#: move a batch of invoices before the platform goes down.
BANNER_LEAD = timedelta(hours=24)


class Kind(StrEnum):
    POLICY = "policy"
    MAINTENANCE = "maintenance"
    SYSTEM = "system"


class Status(StrEnum):
    DRAFT = "draft"  # no publish time yet
    SCHEDULED = "scheduled"  # publish time ahead
    PUBLISHED = "published"  # visible
    EXPIRED = "expired"  # past its expire time
    WITHDRAWN = "withdrawn"  # taken back by staff


@dataclass(frozen=True)
class Announcement:
    id: str
    kind: Kind
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    publish_at: datetime | None
    expire_at: datetime | None = None
    starts_at: datetime | None = None  # maintenance window
    ends_at: datetime | None = None
    audience: tuple[str, ...] = ()  # UBNs; empty means every merchant
    withdrawn: bool = False
    created_by: str = ""
    created_at: datetime | None = None
    updated_by: str = ""
    updated_at: datetime | None = None

    @property
    def for_everyone(self) -> bool:
        return not self.audience

    def status(self, now: datetime) -> Status:
        if self.withdrawn:
            return Status.WITHDRAWN
        if self.publish_at is None:
            return Status.DRAFT
        if now < self.publish_at:
            return Status.SCHEDULED
        if self.expire_at is not None and now >= self.expire_at:
            return Status.EXPIRED
        return Status.PUBLISHED

    def visible_to(self, ubn: str | None, now: datetime) -> bool:
        """Published and addressed to ``ubn`` (``None``: the public, who see only the ones for all)."""
        if self.status(now) is not Status.PUBLISHED:
            return False
        return self.for_everyone or (ubn is not None and ubn in self.audience)

    def banner_due(self, now: datetime) -> bool:
        """A maintenance window that is under way or starts within ``BANNER_LEAD``."""
        if self.kind is not Kind.MAINTENANCE or self.starts_at is None or self.ends_at is None:
            return False
        return self.starts_at - BANNER_LEAD <= now < self.ends_at

    def withdraw(self, actor: str, at: datetime) -> Announcement:
        return replace(self, withdrawn=True, updated_by=actor, updated_at=at)


def check(announcement: Announcement) -> Announcement:
    """The rules across fields; each failure names its field in both languages."""
    a = announcement
    if a.expire_at is not None and a.publish_at is not None and a.expire_at <= a.publish_at:
        raise InvalidInput(
            "EXPIRE_BEFORE_PUBLISH",
            "expire_at must be later than publish_at.",
            "下架時間（expire_at）須晚於發布時間（publish_at）。",
            "expire_at",
        )
    if a.kind is Kind.MAINTENANCE:
        if a.starts_at is None:
            raise InvalidInput(
                "MAINTENANCE_WINDOW_REQUIRED",
                "A maintenance announcement needs starts_at (the window's start).",
                "維護公告須填寫維護開始時間（starts_at）。",
                "starts_at",
            )
        if a.ends_at is None:
            raise InvalidInput(
                "MAINTENANCE_WINDOW_REQUIRED",
                "A maintenance announcement needs ends_at (the window's end).",
                "維護公告須填寫維護結束時間（ends_at）。",
                "ends_at",
            )
        if a.ends_at <= a.starts_at:
            raise InvalidInput(
                "WINDOW_ENDS_BEFORE_START",
                "ends_at must be later than starts_at.",
                "維護結束時間（ends_at）須晚於開始時間（starts_at）。",
                "ends_at",
            )
    elif a.starts_at is not None or a.ends_at is not None:
        raise InvalidInput(
            "WINDOW_ONLY_FOR_MAINTENANCE",
            "Only a maintenance announcement has a window (starts_at, ends_at).",
            "僅維護公告可設定維護時段（starts_at、ends_at）。",
            "starts_at",
        )
    return a
