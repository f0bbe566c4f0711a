"""Announcements (系統公告) in the console: staff create, edit and withdraw them; a merchant lists
its own, opens one and marks it read; a maintenance window near at hand is a banner on every page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.api.announcements import announcement_service
from chalicelib.domain.period import TAIWAN_TZ
from tests.api.conftest import body_of, post_json
from tests.web.conftest import text_of


@pytest.fixture(autouse=True)
def _withdrawn_afterwards() -> Iterator[None]:
    """Announcements for every merchant would show on other tests' dashboards: take them back."""
    yield
    service = announcement_service()
    for announcement in service.everything():
        if not announcement.withdrawn:
            service.withdraw(announcement.id, "test-cleanup", "STAFF#test-cleanup")


def _local(minutes: float) -> str:
    """A time as a datetime-local input holds it: Taiwan time, to the minute."""
    return (datetime.now(UTC) + timedelta(minutes=minutes)).astimezone(TAIWAN_TZ).strftime("%Y-%m-%dT%H:%M")


def _form(**changes: str) -> dict[str, str]:
    return {
        "kind": "policy",
        "title_zh": "統一發票給獎新制",
        "title_en": "New invoice prize rules",
        "body_zh": "自下期起，雲端發票專屬獎增加。",
        "body_en": "From the next period, more cloud-invoice prizes.",
        "publish_at": _local(-2),
        "expire_at": "",
        "starts_at": "",
        "ends_at": "",
        "audience": "",
        **changes,
    }


def _create(client: Any, staff_headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    payload = {
        "kind": "system",
        "title_zh": "平臺通知",
        "title_en": "Platform notice",
        "body_zh": "內容",
        "body_en": "Body",
        "publish_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        **changes,
    }
    answer = post_json(client, "/v1/admin/announcements", payload, staff_headers)
    assert answer.status_code == 201, answer.body
    created: dict[str, Any] = body_of(answer)
    return created


def _staff_ids(client: Any, staff_headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    items = body_of(client.http.get("/v1/admin/announcements", headers=staff_headers))["items"]
    return {a["title_en"]: a for a in items}


def test_staff_create_an_announcement_merchants_then_see(staff, signed_in, client, staff_headers):
    title = f"Prize rules {datetime.now(UTC).timestamp()}"
    answer = staff.post("/staff/announcements", _form(title_en=title))
    assert answer.status_code == 303
    created = _staff_ids(client, staff_headers)[title]
    assert created["status"] == "published" and created["title_zh"] == "統一發票給獎新制"
    listing = text_of(staff.get("/staff/announcements"))
    assert "統一發票給獎新制" in listing and "已發布" in listing

    merchant_console, _ = signed_in()
    page = text_of(merchant_console.get("/console/announcements"))
    assert "統一發票給獎新制" in page and "未讀" in page


def test_a_refused_form_shows_the_error_at_its_field(staff):
    answer = staff.post("/staff/announcements", _form(expire_at=_local(-30)))
    assert answer.status_code == 422
    page = text_of(answer)
    error = re.search(r'id="f-expire_at-error"[^>]*>([^<]+)<', page)
    assert error and "expire_at" in error.group(1)
    assert 'value="New invoice prize rules"' in page  # what was typed is kept


def test_staff_edit_and_withdraw(staff, client, staff_headers):
    created = _create(client, staff_headers, title_en=f"To edit {datetime.now(UTC).timestamp()}")
    page = text_of(staff.get(f"/staff/announcements/{created['id']}"))
    assert created["title_en"] in page
    form = _form(title_en=created["title_en"] + " (revised)", kind="system")
    assert staff.post(f"/staff/announcements/{created['id']}", form).status_code == 303
    assert _staff_ids(client, staff_headers)[created["title_en"] + " (revised)"]["kind"] == "system"
    assert staff.post(f"/staff/announcements/{created['id']}/withdraw", {}).status_code == 303
    assert _staff_ids(client, staff_headers)[created["title_en"] + " (revised)"]["status"] == "withdrawn"
    assert "已撤回" in text_of(staff.get(f"/staff/announcements/{created['id']}"))


def test_a_merchant_opens_one_and_marks_it_read(signed_in, client, staff_headers):
    merchant_console, merchant = signed_in()
    created = _create(client, staff_headers, audience=[merchant.ubn], title_zh="專屬通知")
    dashboard = text_of(merchant_console.get("/console"))
    assert "專屬通知" in dashboard  # the dashboard shows the latest unread
    detail = merchant_console.get(f"/console/announcements/{created['id']}")
    assert detail.status_code == 200 and "標示為已讀" in text_of(detail)
    assert merchant_console.post(f"/console/announcements/{created['id']}", {}).status_code == 303
    assert "標示為已讀" not in text_of(merchant_console.get(f"/console/announcements/{created['id']}"))
    assert "專屬通知" not in text_of(merchant_console.get("/console"))  # read: no longer on the dashboard
    listed = body_of(client.http.get("/v1/merchant/announcements", headers=merchant.headers))["items"]
    assert {a["id"]: a["read"] for a in listed}[created["id"]] is True


def test_another_merchants_announcement_is_404(signed_in, client, staff_headers, new_merchant):
    someone = new_merchant()
    created = _create(client, staff_headers, audience=[someone.ubn], title_zh="他人的通知")
    other, _ = signed_in()
    assert other.get(f"/console/announcements/{created['id']}").status_code == 404
    assert other.post(f"/console/announcements/{created['id']}", {}).status_code == 404
    assert "他人的通知" not in text_of(other.get("/console/announcements"))


def test_the_pages_need_sign_in(console):
    for path in ("/console/announcements", "/console/announcements/x1"):
        answer = console.get(path)
        assert answer.status_code == 303 and answer.headers["Location"].split("?")[0] == "/login"
    answer = console.get("/staff/announcements")
    assert answer.status_code == 303 and answer.headers["Location"].split("?")[0] == "/staff/login"


def test_a_maintenance_window_within_a_day_is_a_banner_on_every_page(signed_in, client, staff_headers):
    merchant_console, merchant = signed_in()
    soon = datetime.now(UTC) + timedelta(hours=20)
    created = _create(
        client,
        staff_headers,
        kind="maintenance",
        audience=[merchant.ubn],
        title_zh="維護通知甲",
        title_en="Maintenance notice A",
        starts_at=soon.isoformat(),
        ends_at=(soon + timedelta(hours=2)).isoformat(),
    )
    for path in ("/console", "/console/invoices", "/console/settings"):
        page = text_of(merchant_console.get(path))
        assert "維護通知甲" in page and f"/console/announcements/{created['id']}" in page, path
    english = text_of(merchant_console.get("/console?lang=en"))
    assert "Maintenance notice A" in english and "Maintenance" in english


def test_a_window_more_than_a_day_ahead_is_no_banner_yet(signed_in, client, staff_headers):
    merchant_console, merchant = signed_in()
    later = datetime.now(UTC) + timedelta(hours=30)
    _create(
        client,
        staff_headers,
        kind="maintenance",
        audience=[merchant.ubn],
        title_zh="遠期維護",
        starts_at=later.isoformat(),
        ends_at=(later + timedelta(hours=1)).isoformat(),
    )
    assert "遠期維護" not in text_of(merchant_console.get("/console/invoices"))
    assert "遠期維護" in text_of(merchant_console.get("/console/announcements"))  # but it is listed


def test_the_english_pages_show_english_labels(staff, signed_in, client, staff_headers):
    staff_page = text_of(staff.get("/staff/announcements?lang=en"))
    for label in ("New announcement", "Title (English)", "Publish at", "Addressed UBNs", "Create announcement"):
        assert label in staff_page
    merchant_console, merchant = signed_in()
    created = _create(client, staff_headers, audience=[merchant.ubn], title_en="Only for you")
    listing = text_of(merchant_console.get("/console/announcements?lang=en"))
    assert "Only for you" in listing and "Unread" in listing
    assert "Mark as read" in text_of(merchant_console.get(f"/console/announcements/{created['id']}?lang=en"))
