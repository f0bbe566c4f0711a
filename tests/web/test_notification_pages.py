"""The inbox in the console: the nav and the dashboard count what is unread, opening a notice reads
it, another merchant's notice is not found, and the per-kind channels are chosen on a settings page."""

from __future__ import annotations

import secrets

from chalicelib.api import deps
from chalicelib.domain.notifications import Notice
from tests.api.conftest import body_of
from tests.web.conftest import text_of


def _tell(ubn: str, title_en: str) -> None:
    deps.notices().notify(
        Notice(
            ubn,
            "low_stock",
            f"web:{secrets.token_hex(6)}",
            "號碼即將用完",
            title_en,
            "請補充字軌。",
            "Add booklets.",
            "/console/tracks",
        )
    )


def test_an_unread_notice_is_counted_opened_and_read(signed_in, client):
    browser, merchant = signed_in()
    _tell(merchant.ubn, "Numbers running low on api")
    dashboard = text_of(browser.get("/console"))
    assert "未讀通知: 1" in dashboard or "Unread notifications: 1" in dashboard
    inbox = text_of(browser.get("/console/notifications?lang=en"))
    assert "Numbers running low on api" in inbox and "Unread 1" in inbox
    notice_id = body_of(client.http.get("/v1/notifications", headers=merchant.headers))["items"][0]["id"]
    opened = text_of(browser.get(f"/console/notifications/{notice_id}?lang=en"))
    assert "Add booklets." in opened and "/console/tracks" in opened
    assert body_of(client.http.get("/v1/notifications/unread-count", headers=merchant.headers)) == {"unread_count": 0}

    stranger, _ = signed_in()
    assert stranger.get(f"/console/notifications/{notice_id}").status_code == 404


def test_mark_all_read_and_filter_unread(signed_in, client):
    browser, merchant = signed_in()
    _tell(merchant.ubn, "First")
    _tell(merchant.ubn, "Second")
    done = browser.post("/console/notifications/read-all", {})
    assert done.status_code == 303
    assert body_of(client.http.get("/v1/notifications/unread-count", headers=merchant.headers)) == {"unread_count": 0}
    assert "Second" not in text_of(browser.get("/console/notifications?unread=1&lang=en"))
    assert "Second" in text_of(browser.get("/console/notifications?lang=en"))


def test_channels_per_kind_are_saved_from_the_settings_page(signed_in, client):
    browser, merchant = signed_in()
    page = text_of(browser.get("/console/settings/notifications"))
    assert 'name="notifications.low_stock.email" value="yes" checked' in page
    saved = browser.post("/console/settings/notifications", {"notifications.low_stock.sms": "yes"})
    assert saved.status_code == 303
    kinds = body_of(client.http.get("/v1/notifications/settings", headers=merchant.headers))["kinds"]
    assert kinds["low_stock"] == {"email": False, "sms": True}
    assert kinds["period_closed"] == {"email": False, "sms": False}  # every box is the form's answer
