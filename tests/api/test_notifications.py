"""The merchant's notification inbox (issue 16): one entry per subject, read state per merchant, an
exact unread count, and mail or SMS only where the merchant's settings for the kind say so."""

from __future__ import annotations

import json
import secrets
import threading

from chalicelib.api import deps
from chalicelib.domain.notifications import Notice
from tests.api.conftest import body_of, last_code_sent_to, outbox, post_json


def _notice(ubn: str, kind: str = "delivery_failed", key: str | None = None) -> Notice:
    return Notice(
        ubn,
        kind,
        key or f"test:{secrets.token_hex(6)}",
        "發票寄送失敗",
        "Invoice delivery failed",
        "寄給買受人的通知被退回。",
        "The mail to the buyer bounced.",
        "/console/invoices",
    )


def _with_mail(client, new_merchant, address: str):
    """A merchant whose notice address is ``address`` (verified, as the platform requires)."""
    merchant = new_merchant(email=address)
    code = last_code_sent_to(client, address)
    verified = post_json(client, "/v1/merchant/receivers/verify", {"channel": "email", "code": code}, merchant.headers)
    assert verified.status_code == 200, verified.body
    return merchant


def _mails(client, address: str) -> list[dict]:
    return [m for m in outbox(client)["emails"] if address in m["to"]]


def _inbox(client, who, query: str = "") -> dict:
    response = client.http.get(f"/v1/notifications{query}", headers=who.headers)
    assert response.status_code == 200, response.body
    return body_of(response)


def test_the_same_subject_is_told_once_and_mailed_once(client, new_merchant):
    address = f"owner-{secrets.token_hex(4)}@example.com"
    merchant = _with_mail(client, new_merchant, address)
    notice = _notice(merchant.ubn, key="bounce:AB00000001")
    assert deps.notices().notify(notice) is True
    assert deps.notices().notify(notice) is False  # a retry of the same thing
    inbox = _inbox(client, merchant)
    assert inbox["unread_count"] == 1
    assert [n["title_en"] for n in inbox["items"]] == ["Invoice delivery failed"]
    assert inbox["items"][0]["channels"]["email"]["status"] == "sent"
    assert inbox["items"][0]["channels"]["sms"]["status"] == "off"  # SMS is off until chosen
    mails = [m for m in _mails(client, address) if "Invoice delivery failed" in m["subject"]]
    assert len(mails) == 1
    assert "The mail to the buyer bounced." in mails[0]["body"]


def test_a_kind_turned_off_stays_in_the_inbox_without_mail(client, new_merchant):
    address = f"quiet-{secrets.token_hex(4)}@example.com"
    merchant = _with_mail(client, new_merchant, address)
    response = client.http.put(
        "/v1/notifications/settings",
        headers={"Content-Type": "application/json", **merchant.headers},
        body=json.dumps({"kinds": {"delivery_failed": {"email": False}}}),
    )
    assert response.status_code == 200, response.body
    settings = body_of(response)["kinds"]
    assert settings["delivery_failed"] == {"email": False, "sms": False}
    assert settings["low_stock"] == {"email": True, "sms": False}  # untouched kinds keep the default
    assert settings["announcement"] == {"email": False, "sms": False}  # inbox only by default
    deps.notices().notify(_notice(merchant.ubn))
    inbox = _inbox(client, merchant)
    assert inbox["items"][0]["channels"]["email"]["status"] == "off"
    assert [m for m in _mails(client, address) if "Invoice delivery failed" in m["subject"]] == []
    assert body_of(client.http.get("/v1/notifications/settings", headers=merchant.headers))["kinds"] == settings


def test_an_unknown_kind_is_refused_by_name(client, new_merchant):
    merchant = new_merchant()
    response = client.http.put(
        "/v1/notifications/settings",
        headers={"Content-Type": "application/json", **merchant.headers},
        body=json.dumps({"kinds": {"lottery": {"email": True}}}),
    )
    assert response.status_code == 400, response.body
    error = body_of(response)["error"]
    assert "lottery" in error["message"] and "lottery" in error["message_zh"]
    listed = client.http.get("/v1/notifications?kind=lottery", headers=merchant.headers)
    assert listed.status_code == 400 and body_of(listed)["error"]["field"] == "kind"


def test_read_state_is_the_merchants_own(client, new_merchant):
    owner, other = new_merchant(), new_merchant()
    deps.notices().notify(_notice(owner.ubn))
    deps.notices().notify(_notice(owner.ubn, kind="low_stock"))
    items = _inbox(client, owner)["items"]
    assert [n["kind"] for n in items] == ["low_stock", "delivery_failed"]  # newest first
    first = items[1]["id"]
    for path in (f"/v1/notifications/{first}", f"/v1/notifications/{first}/read"):
        method = client.http.get if path.endswith(first) else None
        response = method(path, headers=other.headers) if method else post_json(client, path, {}, other.headers)
        assert response.status_code == 404, path
    assert _inbox(client, other)["items"] == []
    assert _inbox(client, owner)["unread_count"] == 2  # the other merchant's attempts changed nothing

    read = post_json(client, f"/v1/notifications/{first}/read", {}, owner.headers)
    assert read.status_code == 200 and body_of(read)["read"] is True
    again = post_json(client, f"/v1/notifications/{first}/read", {}, owner.headers)
    assert again.status_code == 200
    assert body_of(client.http.get("/v1/notifications/unread-count", headers=owner.headers)) == {"unread_count": 1}
    assert [n["kind"] for n in _inbox(client, owner, "?unread=true")["items"]] == ["low_stock"]
    assert [n["kind"] for n in _inbox(client, owner, "?kind=delivery_failed")["items"]] == ["delivery_failed"]

    marked = post_json(client, "/v1/notifications/read-all", {}, owner.headers)
    assert body_of(marked) == {"marked": 1, "unread_count": 0}


def test_the_unread_count_is_exact_when_one_notice_is_marked_twice_at_once(client, new_merchant):
    merchant = new_merchant()
    for _ in range(3):
        deps.notices().notify(_notice(merchant.ubn))
    target = _inbox(client, merchant)["items"][0]["id"]
    start = threading.Barrier(4)

    def mark() -> None:
        start.wait()
        deps.notices().mark_read(merchant.ubn, target)

    threads = [threading.Thread(target=mark) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _inbox(client, merchant)["unread_count"] == 2


def test_pages_of_the_inbox_follow_each_other_without_repeats(client, new_merchant):
    merchant = new_merchant()
    for _ in range(5):
        deps.notices().notify(_notice(merchant.ubn))
    first = _inbox(client, merchant, "?limit=2")
    second = _inbox(client, merchant, f"?limit=2&cursor={first['next_cursor']}")
    third = _inbox(client, merchant, f"?limit=2&cursor={second['next_cursor']}")
    ids = [n["id"] for page in (first, second, third) for n in page["items"]]
    assert len(ids) == len(set(ids)) == 5
    stranger = new_merchant()
    refused = client.http.get(f"/v1/notifications?cursor={first['next_cursor']}", headers=stranger.headers)
    assert refused.status_code == 400  # a cursor is bound to its merchant
