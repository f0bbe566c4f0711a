"""Signed outgoing webhooks (issue 16), against a real HTTP receiver on 127.0.0.1 that fails, hangs
past the timeout and recovers. Signatures are checked by tests/webhook_receiver.py's own HMAC code,
not the platform's. The dispatcher is the deployed one (DynamoDB Local, the HTTP sender) on a clock
the test moves, so a day of retries takes a moment."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.adapters.dynamo_events import DynamoEvents
from chalicelib.adapters.dynamo_webhooks import DynamoWebhooks
from chalicelib.adapters.http_webhooks import HttpWebhookSender
from chalicelib.api import deps
from chalicelib.services.webhooks import WebhookDispatcher
from tests.api.conftest import body_of, post_json
from tests.api.test_invoice_lifecycle import _deliver, _issue, _mailbox, merchant  # noqa: F401 - fixture
from tests.api.test_invoices import issuer  # noqa: F401 - the fixture is shared
from tests.api.test_sign_in_limits import MovableClock
from tests.webhook_receiver import Receiver, signatures, verifies

TIMEOUT_S = 0.5
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def later() -> MovableClock:
    return MovableClock()


def _dispatcher(clock: MovableClock) -> WebhookDispatcher:
    return WebhookDispatcher(
        store=DynamoWebhooks(),
        events=DynamoEvents(),
        sender=HttpWebhookSender(timeout_s=TIMEOUT_S, allow_private=True),
        clock=clock,
        secret_for=deps.endpoint_secret,
        notices=deps.notices(),
    )


def _send_due(clock: MovableClock) -> None:
    """The schedule's run at the test's time (never behind the real clock the deliveries were due by)."""
    clock.moment = max(clock.moment, datetime.now(UTC))
    _dispatcher(clock).run_due()


def _endpoint(client, who, url: str, types: list[str] | None = None) -> dict:
    response = post_json(
        client, "/v1/webhooks/endpoints", {"url": url, "event_types": types or ["invoice.issued"]}, who.headers
    )
    assert response.status_code == 201, response.body
    return body_of(response)


def _issue_and_report(client, who) -> dict:
    """An invoice issued through the API, and its outbox run (what the stream wakes in AWS)."""
    invoice = _issue(client, who, _mailbox())
    _deliver(client, who.ubn, invoice["invoice_number"], "issued")
    return invoice


def _log(client, who, endpoint_id: str) -> list[dict]:
    response = client.http.get(f"/v1/webhooks/endpoints/{endpoint_id}/deliveries", headers=who.headers)
    assert response.status_code == 200, response.body
    return body_of(response)["items"]


def test_an_issued_invoice_reaches_the_endpoint_signed_with_its_own_secret(client, merchant, later):  # noqa: F811
    with Receiver() as receiver:
        endpoint = _endpoint(client, merchant, receiver.url)
        assert endpoint["secret"].startswith("whsec_") and endpoint["enabled"] is True
        invoice = _issue_and_report(client, merchant)
        _send_due(later)
        assert len(receiver.got) == 1
        got = receiver.got[0]
        assert got.path == "/hooks/einvoice"
        assert verifies(endpoint["secret"], got.headers["Einvoice-Signature"], got.body, now=later.now().timestamp())
        assert not verifies("whsec_someone-else", got.headers["Einvoice-Signature"], got.body)
        event = json.loads(got.body)
        assert event["type"] == "invoice.issued" == got.headers["Einvoice-Event-Type"]
        assert event["id"] == got.headers["Einvoice-Event-Id"] and event["id"].startswith("evt_")
        assert event["merchant"] == merchant.ubn
        assert event["data"]["object"]["invoice_number"] == invoice["invoice_number"]
        assert event["data"]["object"]["amounts"] == invoice["amounts"]
        # The events API answers with the very envelope the receiver got.
        shown = body_of(client.http.get(f"/v1/events/{event['id']}", headers=merchant.headers))
        assert shown == event
        listed = body_of(client.http.get("/v1/events?type=invoice.issued", headers=merchant.headers))["items"]
        assert [e["id"] for e in listed] == [event["id"]]
    [delivery] = _log(client, merchant, endpoint["id"])
    assert delivery["status"] == "succeeded" and delivery["event_id"] == event["id"]
    [attempt] = delivery["attempts"]
    assert attempt["status_code"] == 200 and attempt["response"] == '{"ok":true}'
    assert attempt["latency_ms"] >= 0 and attempt["error"] is None
    # The secret is shown at creation only.
    again = body_of(client.http.get(f"/v1/webhooks/endpoints/{endpoint['id']}", headers=merchant.headers))
    assert "secret" not in again and again["url"] == receiver.url


def test_an_endpoint_only_gets_the_types_it_chose(client, merchant, later):  # noqa: F811
    with Receiver() as receiver:
        _endpoint(client, merchant, receiver.url, ["invoice.cancelled"])
        _issue_and_report(client, merchant)
        _send_due(later)
        assert receiver.got == []


def test_errors_and_timeouts_are_retried_with_backoff_until_the_receiver_recovers(client, merchant, later):  # noqa: F811
    with Receiver(500, ("hang", TIMEOUT_S * 4), then=200) as receiver:
        endpoint = _endpoint(client, merchant, receiver.url)
        _issue_and_report(client, merchant)
        _send_due(later)
        [delivery] = _log(client, merchant, endpoint["id"])
        assert delivery["status"] == "retrying" and len(receiver.got) == 1
        first_retry = datetime.fromisoformat(delivery["next_attempt_at"]) - later.now()
        assert timedelta(seconds=15) <= first_retry <= timedelta(seconds=45)  # 30 s ± 50 %
        _send_due(later)  # not due yet: nothing is sent
        assert len(receiver.got) == 1
        later.advance(seconds=46)
        _send_due(later)
        [delivery] = _log(client, merchant, endpoint["id"])
        assert delivery["attempts"][-1]["status_code"] is None
        assert "timed out" in delivery["attempts"][-1]["error"]
        second_retry = datetime.fromisoformat(delivery["next_attempt_at"]) - later.now()
        assert timedelta(seconds=30) <= second_retry <= timedelta(seconds=90)  # doubled, ± 50 %
        later.advance(seconds=91)
        _send_due(later)
    [delivery] = _log(client, merchant, endpoint["id"])
    assert delivery["status"] == "succeeded" and delivery["next_attempt_at"] is None
    assert [a["status_code"] for a in delivery["attempts"]] == [500, None, 200]
    assert delivery["attempts"][0]["response"] == "receiver says no"
    # At least once, and the same event each time: same id, same bytes, so receivers deduplicate.
    assert len({r.headers["Einvoice-Event-Id"] for r in receiver.got}) == 1
    assert len({r.body for r in receiver.got}) == 1
    shown = body_of(client.http.get(f"/v1/webhooks/endpoints/{endpoint['id']}", headers=merchant.headers))
    assert shown["failing_since"] is None and shown["last_success_at"] is not None


def test_an_endpoint_failing_for_24_hours_is_disabled_and_its_merchant_told(client, merchant, later):  # noqa: F811
    with Receiver(then=503) as receiver:
        endpoint = _endpoint(client, merchant, receiver.url)
        _issue_and_report(client, merchant)
        _send_due(later)
        started = later.now()
        for _ in range(200):
            shown = body_of(client.http.get(f"/v1/webhooks/endpoints/{endpoint['id']}", headers=merchant.headers))
            if not shown["enabled"]:
                break
            [delivery] = _log(client, merchant, endpoint["id"])
            assert delivery["status"] == "retrying"  # still trying inside the 24 h
            later.moment = datetime.fromisoformat(delivery["next_attempt_at"])
            _send_due(later)
        assert shown["enabled"] is False
        assert shown["disabled_at"] is not None
        failed_for = datetime.fromisoformat(shown["disabled_at"]) - started
        assert timedelta(hours=24) <= failed_for < timedelta(hours=26)
        assert len(receiver.got) >= 24  # about hourly once the backoff reached its cap
        [delivery] = _log(client, merchant, endpoint["id"])
        assert delivery["status"] == "failed"
        inbox = body_of(client.http.get("/v1/notifications?kind=webhook_disabled", headers=merchant.headers))
        [notice] = inbox["items"]
        assert receiver.url in notice["body_en"] and notice["link"] == f"/console/settings/webhooks/{endpoint['id']}"
        # Disabled: a new event makes no delivery to it.
        sent = len(receiver.got)
        _issue_and_report(client, merchant)
        later.advance(minutes=1)
        _send_due(later)
        assert len(receiver.got) == sent and len(_log(client, merchant, endpoint["id"])) == 1
        # Turned back on, its failure count starts again.
        response = client.http.patch(
            f"/v1/webhooks/endpoints/{endpoint['id']}",
            headers={"Content-Type": "application/json", **merchant.headers},
            body=json.dumps({"enabled": True}),
        )
        assert response.status_code == 200, response.body
        assert body_of(response)["enabled"] is True and body_of(response)["failing_since"] is None


def test_replay_sends_one_event_again_with_the_same_id_and_body(client, merchant, later):  # noqa: F811
    with Receiver() as receiver:
        endpoint = _endpoint(client, merchant, receiver.url)
        _issue_and_report(client, merchant)
        _send_due(later)
        event_id = receiver.got[0].headers["Einvoice-Event-Id"]
        response = post_json(
            client, f"/v1/webhooks/endpoints/{endpoint['id']}/events/{event_id}/replay", {}, merchant.headers
        )
        assert response.status_code == 202, response.body
        assert body_of(response)["replay"] is True and body_of(response)["status"] == "pending"
        later.advance(seconds=1)
        _send_due(later)
        assert len(receiver.got) == 2
        assert receiver.got[1].body == receiver.got[0].body
        assert receiver.got[1].headers["Einvoice-Event-Id"] == event_id
        assert verifies(
            endpoint["secret"],
            receiver.got[1].headers["Einvoice-Signature"],
            receiver.got[1].body,
            now=later.now().timestamp(),
        )
    log = _log(client, merchant, endpoint["id"])
    assert [(d["replay"], d["status"]) for d in log] == [(True, "succeeded"), (False, "succeeded")]  # newest first
    unknown = post_json(client, f"/v1/webhooks/endpoints/{endpoint['id']}/events/evt_0000/replay", {}, merchant.headers)
    assert unknown.status_code == 404 and body_of(unknown)["error"]["code"] == "EVENT_NOT_FOUND"


def test_a_rotated_secret_signs_alongside_the_old_one_until_the_overlap_ends(client, merchant, later):  # noqa: F811
    with Receiver() as receiver:
        endpoint = _endpoint(client, merchant, receiver.url)
        old = endpoint["secret"]
        response = post_json(
            client, f"/v1/webhooks/endpoints/{endpoint['id']}/rotate-secret", {"overlap_hours": 1}, merchant.headers
        )
        assert response.status_code == 200, response.body
        rotated = body_of(response)
        new = rotated["secret"]
        assert new != old and new.startswith("whsec_") and rotated["generation"] == 2
        assert rotated["previous_secret_until"] is not None
        _issue_and_report(client, merchant)
        _send_due(later)
        during = receiver.got[-1]
        assert len(signatures(during.headers["Einvoice-Signature"])[1]) == 2
        at = later.now().timestamp()
        assert verifies(old, during.headers["Einvoice-Signature"], during.body, now=at)
        assert verifies(new, during.headers["Einvoice-Signature"], during.body, now=at)
        later.advance(hours=2)  # the overlap is over
        event_id = during.headers["Einvoice-Event-Id"]
        post_json(client, f"/v1/webhooks/endpoints/{endpoint['id']}/events/{event_id}/replay", {}, merchant.headers)
        _send_due(later)
        after = receiver.got[-1]
        at = later.now().timestamp()
        assert len(signatures(after.headers["Einvoice-Signature"])[1]) == 1
        assert verifies(new, after.headers["Einvoice-Signature"], after.body, now=at)
        assert not verifies(old, after.headers["Einvoice-Signature"], after.body, now=at)


def test_a_stale_signature_timestamp_is_refused_by_the_receiver(client, merchant, later):  # noqa: F811
    with Receiver() as receiver:
        endpoint = _endpoint(client, merchant, receiver.url)
        _issue_and_report(client, merchant)
        _send_due(later)
        got = receiver.got[0]
        stamp = later.now().timestamp()
        assert verifies(endpoint["secret"], got.headers["Einvoice-Signature"], got.body, now=stamp + 299)
        assert not verifies(endpoint["secret"], got.headers["Einvoice-Signature"], got.body, now=stamp + 301)


def test_two_dispatchers_at_once_send_each_attempt_once(client, merchant, later):  # noqa: F811
    with Receiver() as receiver:
        _endpoint(client, merchant, receiver.url)
        _issue_and_report(client, merchant)
        threads = [threading.Thread(target=_send_due, args=(later,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(receiver.got) == 1


def test_a_deleted_endpoint_gets_nothing_more(client, merchant, later):  # noqa: F811
    with Receiver(500, then=200) as receiver:
        endpoint = _endpoint(client, merchant, receiver.url)
        _issue_and_report(client, merchant)
        _send_due(later)
        response = client.http.delete(f"/v1/webhooks/endpoints/{endpoint['id']}", headers=merchant.headers)
        assert response.status_code == 204
        later.advance(minutes=5)
        _send_due(later)
        assert len(receiver.got) == 1
        gone = client.http.get(f"/v1/webhooks/endpoints/{endpoint['id']}", headers=merchant.headers)
        assert gone.status_code == 404
        assert body_of(client.http.get("/v1/webhooks/endpoints", headers=merchant.headers))["items"] == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "http://example.com/hook", "event_types": ["invoice.issued"]}, "url"),
        ({"url": "ftp://example.com/hook", "event_types": ["invoice.issued"]}, "url"),
        ({"url": "https://user:pw@example.com/hook", "event_types": ["invoice.issued"]}, "url"),
        ({"url": "https://example.com/hook", "event_types": ["invoice.paid"]}, "event_types[0]"),
        ({"url": "https://example.com/hook", "event_types": []}, "event_types"),
        ({"url": "https://example.com/hook"}, "event_types"),
        ({"url": "https://example.com/hook", "event_types": ["*"], "colour": "red"}, "colour"),
    ],
)
def test_bad_endpoints_are_refused_by_field_and_nothing_is_kept(client, new_merchant, payload, field):
    who = new_merchant()
    response = post_json(client, "/v1/webhooks/endpoints", payload, who.headers)
    assert response.status_code == 400, response.body
    error = body_of(response)["error"]
    assert error["field"] == field
    assert error["message"] and error["message_zh"]
    assert body_of(client.http.get("/v1/webhooks/endpoints", headers=who.headers))["items"] == []


def test_bad_changes_are_refused_by_field(client, new_merchant):
    who = new_merchant()
    endpoint = _endpoint(client, who, "https://erp.example.com.tw/hook")
    path = f"/v1/webhooks/endpoints/{endpoint['id']}"
    too_long = post_json(client, path + "/rotate-secret", {"overlap_hours": 169}, who.headers)
    assert too_long.status_code == 400 and body_of(too_long)["error"]["field"] == "overlap_hours"
    response = client.http.patch(
        path, headers={"Content-Type": "application/json", **who.headers}, body=json.dumps({"url": "http://x.tw/"})
    )
    assert response.status_code == 400 and body_of(response)["error"]["field"] == "url"
    unknown_type = client.http.get("/v1/events?type=nothing.happened", headers=who.headers)
    assert unknown_type.status_code == 400 and body_of(unknown_type)["error"]["field"] == "type"
    shown = body_of(client.http.get(path, headers=who.headers))
    assert shown["url"] == "https://erp.example.com.tw/hook" and shown["generation"] == 1


def test_another_merchant_gets_404_for_every_endpoint_and_event(client, merchant, new_merchant, later):  # noqa: F811
    other = new_merchant()
    with Receiver() as receiver:
        endpoint = _endpoint(client, merchant, receiver.url)
        _issue_and_report(client, merchant)
        _send_due(later)
        event_id = receiver.got[0].headers["Einvoice-Event-Id"]
    path = f"/v1/webhooks/endpoints/{endpoint['id']}"
    json_headers = {"Content-Type": "application/json", **other.headers}
    answers = [
        client.http.get(path, headers=other.headers),
        client.http.patch(path, headers=json_headers, body=json.dumps({"enabled": False})),
        post_json(client, path + "/rotate-secret", {}, other.headers),
        client.http.get(path + "/deliveries", headers=other.headers),
        post_json(client, f"{path}/events/{event_id}/replay", {}, other.headers),
        client.http.get(f"/v1/events/{event_id}", headers=other.headers),
        client.http.delete(path, headers=other.headers),
    ]
    assert [a.status_code for a in answers] == [404] * len(answers)
    assert body_of(client.http.get("/v1/events", headers=other.headers))["items"] == []
    assert body_of(client.http.get("/v1/webhooks/endpoints", headers=other.headers))["items"] == []
    shown = body_of(client.http.get(path, headers=merchant.headers))
    assert shown["enabled"] is True and shown["generation"] == 1  # untouched by the other's attempts


def test_events_come_in_pages_newest_first(client, merchant, later):  # noqa: F811
    for _ in range(3):
        _issue_and_report(client, merchant)
    first = body_of(client.http.get("/v1/events?limit=2", headers=merchant.headers))
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = body_of(client.http.get(f"/v1/events?limit=2&cursor={first['next_cursor']}", headers=merchant.headers))
    ids = [e["id"] for e in first["items"] + rest["items"]]
    assert len(ids) == len(set(ids)) == 3
    created = [e["created"] for e in first["items"] + rest["items"]]
    assert created == sorted(created, reverse=True)


def _documented_verify():
    """The receiver code docs/webhooks.md gives merchants, run as they would copy it."""
    text = (ROOT / "docs" / "webhooks.md").read_text(encoding="utf-8")
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(code.strip().splitlines()) <= 10
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - our own documentation's example
    return namespace["verify"]


def test_the_documented_receiver_verifies_a_real_delivery(client, merchant):  # noqa: F811
    verify = _documented_verify()
    with Receiver() as receiver:
        endpoint = _endpoint(client, merchant, receiver.url)
        _issue_and_report(client, merchant)
        deps.webhook_dispatcher().run_due()  # the deployed wiring, on the real clock
        got = receiver.got[-1]
    assert verify(endpoint["secret"], got.headers["Einvoice-Signature"], got.body)
    assert not verify(endpoint["secret"], got.headers["Einvoice-Signature"], got.body + b" ")


def test_the_openapi_and_the_package_carry_the_same_guide(client):
    served = (ROOT / "chalicelib" / "api" / "static" / "webhooks.md").read_text(encoding="utf-8")
    assert served == (ROOT / "docs" / "webhooks.md").read_text(encoding="utf-8")
    spec = body_of(client.http.get("/openapi.json"))
    described = spec["paths"]["/v1/webhooks/endpoints"]["post"]["description"]
    assert "hmac.compare_digest" in described and "Einvoice-Signature" in described
