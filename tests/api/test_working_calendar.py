"""Staff override a day of the working calendar; the deadlines the platform gives follow at once."""

from __future__ import annotations

import json

from tests.api.conftest import body_of

# 2015-03-15 was a Sunday: the return of period 10402 (Jan–Feb 2015) was due Monday 2015-03-16.
# A period so old that no other test reads its deadline while this one moves it.
PERIOD, DUE, DAY_AFTER = "10402", "2015-03-16", "2015-03-17"


def _put(client, path: str, body: object, headers: dict[str, str]):
    return client.http.put(path, body=json.dumps(body), headers={**headers, "Content-Type": "application/json"})


def _due_by(client, merchant) -> str:
    response = client.http.get(f"/v1/filings/{PERIOD}", headers=merchant.headers)
    assert response.status_code == 200, response.body
    return body_of(response)["due_by"]


def test_a_typhoon_day_off_moves_the_filing_deadline(client, staff_headers, new_merchant):
    merchant = new_merchant()
    assert _due_by(client, merchant) == DUE
    day_off = {"working": False, "reason": "颱風假 typhoon day off"}
    response = _put(client, f"/v1/admin/calendar/{DUE}", day_off, staff_headers)
    try:
        assert response.status_code == 200, response.body
        assert body_of(response)["day"] == DUE and body_of(response)["working"] is False
        assert _due_by(client, merchant) == DAY_AFTER
        listed = body_of(client.http.get("/v1/admin/calendar", headers=staff_headers))["overrides"]
        assert {"day": DUE, "working": False, "reason": "颱風假 typhoon day off"}.items() <= next(
            o for o in listed if o["day"] == DUE
        ).items()
    finally:
        removed = client.http.delete(f"/v1/admin/calendar/{DUE}", headers=staff_headers)
    assert removed.status_code == 204
    assert _due_by(client, merchant) == DUE
    again = client.http.delete(f"/v1/admin/calendar/{DUE}", headers=staff_headers)
    assert again.status_code == 404 and body_of(again)["error"]["field"] == "day"


def test_a_bad_override_is_refused_naming_the_field(client, staff_headers):
    bad_day = _put(client, "/v1/admin/calendar/2025-02-30", {"working": False, "reason": "x"}, staff_headers)
    assert bad_day.status_code == 400 and body_of(bad_day)["error"]["field"] == "day"
    no_reason = _put(client, f"/v1/admin/calendar/{DUE}", {"working": False}, staff_headers)
    assert no_reason.status_code == 400 and body_of(no_reason)["error"]["field"] == "reason"
    assert body_of(no_reason)["error"]["message_zh"]


def test_a_merchant_cannot_override_the_calendar(client, new_merchant):
    merchant = new_merchant()
    response = _put(client, f"/v1/admin/calendar/{DUE}", {"working": False, "reason": "x"}, merchant.headers)
    assert response.status_code == 403
