"""Event webhooks in the console: add an endpoint and see its secret once, watch the delivery log
fill from a real receiver, replay, rotate, turn off and on, delete; bad input named on the form;
another merchant's endpoint is not found on any of its pages."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from chalicelib.api import deps
from chalicelib.domain.events import Event
from tests.api.conftest import body_of
from tests.web.conftest import text_of
from tests.webhook_receiver import Receiver, verifies


def _announce(ubn: str) -> Event:
    """An event of the merchant's, as the announcement fan-out publishes it."""
    event = Event(
        ubn,
        "announcement.published",
        f"web-test:{secrets.token_hex(6)}",
        datetime.now(UTC),
        {"id": "ann_web", "title_en": "Maintenance tonight"},
    )
    deps.event_publisher().publish([event])
    return event


def _endpoint_id(page: str) -> str:
    return re.search(r"/console/settings/webhooks/(we_[0-9a-f]+)", page).group(1)


def test_a_merchant_adds_an_endpoint_sees_its_secret_once_and_reads_the_log(signed_in, client):
    browser, merchant = signed_in()
    with Receiver(500, then=200) as receiver:
        created = browser.post(
            "/console/settings/webhooks?lang=en",
            {"url": receiver.url, "description": "ERP", "event_types": ["announcement.published"]},
        )
        assert created.status_code == 200
        page = text_of(created)
        secret = re.search(r"whsec_[A-Za-z0-9_-]+", page).group(0)
        assert "only time this secret is shown" in page
        endpoint_id = _endpoint_id(page)
        detail = text_of(browser.get(f"/console/settings/webhooks/{endpoint_id}?lang=en"))
        assert secret not in detail and "Nothing sent yet." in detail

        event = _announce(merchant.ubn)
        deps.webhook_dispatcher().run_due()  # answered 500: retrying
        detail = text_of(browser.get(f"/console/settings/webhooks/{endpoint_id}?lang=en"))
        assert "Retrying" in detail and "HTTP 500" in detail and event.id in detail

        replayed = browser.post(f"/console/settings/webhooks/{endpoint_id}/replay", {"event_id": event.id})
        assert replayed.status_code == 303
        deps.webhook_dispatcher().run_due()
        detail = text_of(browser.get(f"/console/settings/webhooks/{endpoint_id}?lang=en"))
        assert "Delivered" in detail and "Replay" in detail and "HTTP 200" in detail
        assert verifies(secret, receiver.got[-1].headers["Einvoice-Signature"], receiver.got[-1].body)
    listing = text_of(browser.get("/console/settings/webhooks?lang=en"))
    assert receiver.url in listing and "announcement.published" in listing


def test_bad_input_is_named_on_the_form_and_nothing_is_added(signed_in):
    browser, merchant = signed_in()
    refused = browser.post("/console/settings/webhooks?lang=en", {"url": "http://example.com/x", "event_types": ["*"]})
    assert refused.status_code == 422
    page = text_of(refused)
    assert 'id="f-url-error"' in page and "HTTPS" in page
    no_types = browser.post("/console/settings/webhooks?lang=en", {"url": "https://erp.example.com.tw/hook"})
    assert no_types.status_code == 422 and 'id="event-types-error"' in text_of(no_types)
    assert body_of(browser.client.http.get("/v1/webhooks/endpoints", headers=merchant.headers))["items"] == []


def test_edit_rotate_disable_enable_and_delete(signed_in, client):
    browser, merchant = signed_in()
    page = text_of(
        browser.post("/console/settings/webhooks", {"url": "https://erp.example.com.tw/a", "all_types": "1"})
    )
    endpoint_id = _endpoint_id(page)
    base = f"/console/settings/webhooks/{endpoint_id}"
    saved = browser.post(base, {"url": "https://erp.example.com.tw/b", "event_types": ["invoice.issued"]})
    assert saved.status_code == 303
    shown = body_of(client.http.get(f"/v1/webhooks/endpoints/{endpoint_id}", headers=merchant.headers))
    assert shown["url"] == "https://erp.example.com.tw/b" and shown["event_types"] == ["invoice.issued"]

    too_long = browser.post(base + "/rotate?lang=en", {"overlap_hours": "500"})
    assert too_long.status_code == 422 and 'id="f-overlap_hours-error"' in text_of(too_long)
    rotated = text_of(browser.post(base + "/rotate?lang=en", {"overlap_hours": "2"}))
    assert "new signing secret" in rotated and "whsec_" in rotated
    shown = body_of(client.http.get(f"/v1/webhooks/endpoints/{endpoint_id}", headers=merchant.headers))
    assert shown["generation"] == 2 and shown["previous_secret_until"]

    assert browser.post(base + "/enabled", {"enabled": "0"}).status_code == 303
    assert "Enable it again" in text_of(browser.get(base + "?lang=en"))
    assert browser.post(base + "/enabled", {"enabled": "1"}).status_code == 303
    assert body_of(client.http.get(f"/v1/webhooks/endpoints/{endpoint_id}", headers=merchant.headers))["enabled"]

    assert "Delete it" in text_of(browser.get(base + "/delete?lang=en"))
    assert browser.post(base + "/delete", {}).status_code == 303
    assert browser.get(base).status_code == 404


def test_another_merchants_endpoint_is_not_found_on_any_page(signed_in):
    owner, _ = signed_in()
    endpoint_id = _endpoint_id(
        text_of(owner.post("/console/settings/webhooks", {"url": "https://erp.example.com.tw/a", "all_types": "1"}))
    )
    stranger, _ = signed_in()
    base = f"/console/settings/webhooks/{endpoint_id}"
    assert stranger.get(base).status_code == 404
    assert stranger.get(base + "/delete").status_code == 404
    for path, form in (
        (base, {"url": "https://evil.example.com/", "all_types": "1"}),
        (base + "/enabled", {"enabled": "0"}),
        (base + "/rotate", {"overlap_hours": "0"}),
        (base + "/delete", {}),
        (base + "/replay", {"event_id": "evt_x"}),
    ):
        assert stranger.post(path, form).status_code == 404, path
    assert "https://erp.example.com.tw/a" in text_of(owner.get(base))
