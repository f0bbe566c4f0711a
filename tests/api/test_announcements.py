"""System announcements (系統公告): staff schedule, edit and withdraw them; the public sees only the
published ones for everyone; each merchant sees its own with its own read state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.api import deps
from chalicelib.api.announcements import announcement_service
from tests.api.conftest import body_of, post_json


@pytest.fixture(autouse=True)
def _withdrawn_afterwards() -> Iterator[None]:
    """Announcements for every merchant would show on other tests' dashboards: take them back."""
    yield
    service = announcement_service()
    for announcement in service.everything():
        if not announcement.withdrawn:
            service.withdraw(announcement.id, "test-cleanup", "STAFF#test-cleanup")


class ShiftedClock:
    """The real time moved by ``offset``: small shifts keep the 15-minute access tokens valid."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def _at(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def _payload(**changes: Any) -> dict[str, Any]:
    return {
        "kind": "policy",
        "title_zh": "營業稅新制說明",
        "title_en": "New business tax rules",
        "body_zh": "自下期起適用新制。",
        "body_en": "The new rules apply from the next period.",
        "publish_at": _at(-1),
        **changes,
    }


def _create(client: Any, staff_headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    response = post_json(client, "/v1/admin/announcements", _payload(**changes), staff_headers)
    assert response.status_code == 201, response.body
    created: dict[str, Any] = body_of(response)
    return created


def _get(client: Any, path: str, headers: dict[str, str] | None = None) -> Any:
    return client.http.get(path, headers=headers or {})


def _patch(client: Any, path: str, payload: Any, headers: dict[str, str]) -> Any:
    return client.http.patch(path, headers={"Content-Type": "application/json", **headers}, body=json.dumps(payload))


def _public_ids(client: Any, limit: int = 100) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        page = body_of(_get(client, f"/v1/announcements{query}"))
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


def _merchant_items(client: Any, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    answer = body_of(_get(client, "/v1/merchant/announcements", headers))
    return {item["id"]: item for item in answer["items"]}


def test_a_scheduled_announcement_appears_at_its_publish_time_and_goes_at_its_expiry(
    client, staff_headers, monkeypatch
):
    created = _create(client, staff_headers, publish_at=_at(5), expire_at=_at(10))
    assert created["status"] == "scheduled"
    assert created["title_en"] == "New business tax rules" and created["title_zh"] == "營業稅新制說明"
    assert created["id"] not in _public_ids(client)

    monkeypatch.setattr(deps, "clock", ShiftedClock(timedelta(minutes=6)))
    assert created["id"] in _public_ids(client)
    listed = {a["id"]: a for a in body_of(_get(client, "/v1/admin/announcements", staff_headers))["items"]}
    assert listed[created["id"]]["status"] == "published"

    monkeypatch.setattr(deps, "clock", ShiftedClock(timedelta(minutes=11)))
    assert created["id"] not in _public_ids(client)
    listed = {a["id"]: a for a in body_of(_get(client, "/v1/admin/announcements", staff_headers))["items"]}
    assert listed[created["id"]]["status"] == "expired"


def test_a_draft_is_seen_by_staff_only_until_it_is_given_a_publish_time(client, staff_headers):
    draft = _create(client, staff_headers, publish_at=None)
    assert draft["status"] == "draft"
    assert draft["id"] not in _public_ids(client)
    edited = _patch(
        client,
        f"/v1/admin/announcements/{draft['id']}",
        {"publish_at": _at(-1), "title_en": "Tax rules, revised"},
        staff_headers,
    )
    assert edited.status_code == 200, edited.body
    assert body_of(edited)["status"] == "published" and body_of(edited)["title_en"] == "Tax rules, revised"
    assert body_of(edited)["title_zh"] == "營業稅新制說明"  # untouched fields stay
    assert draft["id"] in _public_ids(client)


def test_a_withdrawn_announcement_disappears_for_everyone(client, staff_headers, new_merchant):
    merchant = new_merchant()
    created = _create(client, staff_headers)
    assert body_of(_get(client, f"/v1/announcements/{created['id']}"))["title_zh"] == "營業稅新制說明"
    assert created["id"] in _public_ids(client) and created["id"] in _merchant_items(client, merchant.headers)
    answer = post_json(client, f"/v1/admin/announcements/{created['id']}/withdraw", {}, staff_headers)
    assert answer.status_code == 200 and body_of(answer)["status"] == "withdrawn"
    assert created["id"] not in _public_ids(client)
    assert _get(client, f"/v1/announcements/{created['id']}").status_code == 404
    assert created["id"] not in _merchant_items(client, merchant.headers)
    read = post_json(client, f"/v1/merchant/announcements/{created['id']}/read", {}, merchant.headers)
    assert read.status_code == 404


def test_an_announcement_for_some_ubns_is_seen_only_by_them(client, staff_headers, new_merchant):
    addressed, other = new_merchant(), new_merchant()
    created = _create(client, staff_headers, audience=[addressed.ubn])
    assert created["audience"] == [addressed.ubn]
    assert created["id"] in _merchant_items(client, addressed.headers)
    assert created["id"] not in _merchant_items(client, other.headers)
    assert created["id"] not in _public_ids(client)  # the public sees only those for all
    assert _get(client, f"/v1/announcements/{created['id']}").status_code == 404
    refused = post_json(client, f"/v1/merchant/announcements/{created['id']}/read", {}, other.headers)
    assert refused.status_code == 404
    assert body_of(refused)["error"]["code"] == "ANNOUNCEMENT_NOT_FOUND"


def test_read_state_is_kept_per_merchant(client, staff_headers, new_merchant):
    first, second = new_merchant(), new_merchant()
    created = _create(client, staff_headers)
    before = body_of(_get(client, "/v1/merchant/announcements", first.headers))
    assert {a["id"]: a["read"] for a in before["items"]}[created["id"]] is False
    answer = post_json(client, f"/v1/merchant/announcements/{created['id']}/read", {}, first.headers)
    assert answer.status_code == 200 and body_of(answer)["read"] is True
    after = body_of(_get(client, "/v1/merchant/announcements", first.headers))
    assert {a["id"]: a["read"] for a in after["items"]}[created["id"]] is True
    assert after["unread"] == before["unread"] - 1
    assert _merchant_items(client, second.headers)[created["id"]]["read"] is False


def test_the_public_list_pages_newest_first_without_repeats(client, staff_headers):
    ids = [_create(client, staff_headers, publish_at=_at(-3 + i * 0.5))["id"] for i in range(3)]
    walked = _public_ids(client, limit=2)
    assert len(walked) == len(set(walked))
    mine = [i for i in walked if i in ids]
    assert mine == list(reversed(ids))  # the latest publish time first


def test_a_tampered_cursor_is_refused_naming_the_field(client):
    answer = _get(client, "/v1/announcements?cursor=not-a-cursor")
    assert answer.status_code == 400 and body_of(answer)["error"]["field"] == "cursor"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "rumour"}, "kind"),
        ({"title_en": ""}, "title_en"),
        ({"publish_at": "2026-12-01T09:00:00"}, "publish_at"),  # no time zone: ambiguous
        ({"expire_at": _at(-2)}, "expire_at"),  # before its publish time
        ({"audience": ["1234"]}, "audience"),
        ({"kind": "maintenance"}, "starts_at"),  # a maintenance notice needs its window
        ({"kind": "maintenance", "starts_at": _at(60), "ends_at": _at(30)}, "ends_at"),
        ({"starts_at": _at(60), "ends_at": _at(90)}, "starts_at"),  # a window only for maintenance
    ],
)
def test_bad_input_is_refused_naming_the_field_in_both_languages(client, staff_headers, changes, field):
    answer = post_json(client, "/v1/admin/announcements", _payload(**changes), staff_headers)
    assert answer.status_code == 400, answer.body
    error = body_of(answer)["error"]
    assert str(error["field"]).startswith(field)
    assert error["message"] and error["message_zh"] and error["message"] != error["message_zh"]


def test_an_edit_that_breaks_a_rule_changes_nothing(client, staff_headers):
    created = _create(client, staff_headers)
    answer = _patch(client, f"/v1/admin/announcements/{created['id']}", {"expire_at": _at(-5)}, staff_headers)
    assert answer.status_code == 400 and body_of(answer)["error"]["field"] == "expire_at"
    listed = {a["id"]: a for a in body_of(_get(client, "/v1/admin/announcements", staff_headers))["items"]}
    assert listed[created["id"]]["expire_at"] is None


def test_the_contracts_delete_withdraws_too(client, staff_headers):
    created = _create(client, staff_headers)
    answer = client.http.delete(f"/v1/admin/announcements/{created['id']}", headers=staff_headers)
    assert answer.status_code == 200 and body_of(answer)["status"] == "withdrawn"
    assert created["id"] not in _public_ids(client)


def test_unknown_announcements_are_404(client, staff_headers, new_merchant):
    assert _patch(client, "/v1/admin/announcements/nope", {"title_en": "x"}, staff_headers).status_code == 404
    assert post_json(client, "/v1/admin/announcements/nope/withdraw", {}, staff_headers).status_code == 404
    assert post_json(client, "/v1/merchant/announcements/nope/read", {}, new_merchant().headers).status_code == 404
