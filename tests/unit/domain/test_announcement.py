"""The schedule boundaries of an announcement (系統公告) and of its maintenance banner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.announcement import Announcement, Kind, Status, check
from chalicelib.domain.errors import InvalidInput

T0 = datetime(2026, 12, 20, 0, 0, tzinfo=UTC)


def _notice(**changes: object) -> Announcement:
    values: dict[str, object] = {
        "id": "a1",
        "kind": Kind.MAINTENANCE,
        "title_zh": "維護",
        "title_en": "Maintenance",
        "body_zh": "內容",
        "body_en": "Body",
        "publish_at": T0 - timedelta(days=2),
        "expire_at": T0 + timedelta(hours=3),
        "starts_at": T0,
        "ends_at": T0 + timedelta(hours=2),
        **changes,
    }
    return Announcement(**values)  # type: ignore[arg-type]


def test_published_from_the_publish_time_to_just_before_the_expiry():
    notice = _notice()
    assert notice.status(T0 - timedelta(days=2, microseconds=1)) is Status.SCHEDULED
    assert notice.status(T0 - timedelta(days=2)) is Status.PUBLISHED
    assert notice.status(T0 + timedelta(hours=3) - timedelta(microseconds=1)) is Status.PUBLISHED
    assert notice.status(T0 + timedelta(hours=3)) is Status.EXPIRED


def test_a_withdrawn_or_undated_notice_is_never_shown():
    assert _notice(withdrawn=True).status(T0) is Status.WITHDRAWN
    assert _notice(publish_at=None).status(T0) is Status.DRAFT
    assert not _notice(publish_at=None).visible_to(None, T0)


def test_the_banner_runs_from_a_day_before_the_window_to_its_end():
    notice = _notice()
    assert not notice.banner_due(T0 - timedelta(hours=24, microseconds=1))
    assert notice.banner_due(T0 - timedelta(hours=24))
    assert notice.banner_due(T0 + timedelta(hours=1))
    assert not notice.banner_due(T0 + timedelta(hours=2))


def test_the_audience_decides_who_sees_it():
    addressed = _notice(audience=("24634102",))
    assert addressed.visible_to("24634102", T0) and not addressed.visible_to("12345675", T0)
    assert not addressed.visible_to(None, T0)
    assert _notice().visible_to(None, T0) and _notice().visible_to("12345675", T0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"expire_at": T0 - timedelta(days=3)}, "expire_at"),
        ({"starts_at": None}, "starts_at"),
        ({"ends_at": T0 - timedelta(hours=1)}, "ends_at"),
        ({"kind": Kind.POLICY}, "starts_at"),
    ],
)
def test_rules_across_fields_name_the_field(changes, field):
    with pytest.raises(InvalidInput) as refused:
        check(_notice(**changes))
    assert refused.value.field == field
