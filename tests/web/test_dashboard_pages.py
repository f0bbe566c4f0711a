"""個人專區 (/console): who the merchant is, this period and its deadlines, numbers left per
channel, the latest invoices, announcements and what is missing before issuing."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta

from chalicelib.adapters.taiwan_calendar import TaiwanCalendar
from chalicelib.api import deps
from chalicelib.domain.period import TAIWAN_TZ
from tests.api.conftest import post_json
from tests.numbers import take
from tests.web.conftest import text_of
from tests.web.tracks_setup import activate_and_assign, allocate, ready_to_issue, this_period

B2C = {
    "buyer": {"ubn": None, "name": "消費者"},
    "carrier": {"type": "3J0002", "id": "/ABC+123"},
    "donation_code": None,
    "print": False,
    "items": [{"description": "拿鐵咖啡", "quantity": "2", "unit_price": "65", "tax_type": "1"}],
    "prices_include_tax": True,
}


def _cell(html: str, channel: str) -> str:
    match = re.search(rf'data-channel="{re.escape(channel)}">\s*([0-9,]+)', html)
    assert match, f"no numbers-left cell for {channel}"
    return match.group(1)


def test_the_dashboard_needs_a_sign_in(console) -> None:
    response = console.get("/console")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=/console"


def test_it_shows_the_merchant_this_period_and_its_filing_deadline(signed_in, client) -> None:
    browser, merchant = signed_in()
    client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **merchant.headers},
        body=json.dumps({"person_in_charge": "王大明", "phone": "02-2311-1234"}),
    )
    html = text_of(browser.get("/console"))
    assert merchant.ubn in html and merchant.name in html
    assert "王大明" in html and "02-2311-1234" in html
    # Hand-worked: the return is due on the 15th of the month after the period's even month, moved
    # to the next working day when that is a day off (the office calendar is checked against the
    # government's in tests/unit/test_taiwan_calendar.py).
    today = datetime.now(TAIWAN_TZ).date()
    end_month = today.month + today.month % 2
    due = date(today.year + 1, 1, 15) if end_month == 12 else date(today.year, end_month + 1, 15)
    while not TaiwanCalendar().is_working_day(due):
        due += timedelta(days=1)
    assert this_period() in html
    assert f"{today.year - 1911}年{end_month - 1:02d}-{end_month:02d}月" in html
    assert due.isoformat() in html


def test_numbers_left_per_channel_follow_what_was_assigned_and_used(signed_in, client, staff_headers) -> None:
    browser, merchant = signed_in()
    track_id, _, _ = allocate(client, staff_headers, merchant.ubn, 4)
    post_json(client, f"/v1/tracks/{track_id}/activate", {"booklets": 3}, merchant.headers)
    client.http.put(
        f"/v1/tracks/{track_id}/channels",
        headers={"Content-Type": "application/json", **merchant.headers},
        body=json.dumps(
            {"assignments": [{"channel": "online", "booklets": 2}, {"channel": "pos:till-1", "booklets": 1}]}
        ),
    )
    html = text_of(browser.get("/console"))
    assert _cell(html, "online") == "100"  # two booklets of 50
    assert _cell(html, "pos:till-1") == "50"
    assert "POS till-1" in html
    assert re.search(r"尚未取號：\s*50\b", html)  # the fourth booklet waits for 取號

    service = deps.numbering_service()
    for _ in range(3):
        take(service, merchant.ubn, "online")
    assert _cell(text_of(browser.get("/console")), "online") == "97"


def test_the_latest_five_invoices_link_to_their_pages(signed_in, client, staff_headers) -> None:
    browser, merchant = signed_in()
    ready_to_issue(client, merchant.headers)
    track_id, track, begin = allocate(client, staff_headers, merchant.ubn, 1)
    activate_and_assign(client, merchant.headers, track_id, [{"channel": "online", "booklets": 1}])
    for _ in range(6):
        assert post_json(client, "/v1/invoices", B2C, merchant.headers).status_code == 201
    html = text_of(browser.get("/console"))
    numbers = [f"{track}{begin + i:08d}" for i in range(6)]
    for number in numbers[1:]:
        assert f'href="/console/invoices/{number}"' in html
    assert numbers[0] not in html  # the oldest of six is not among the latest five
    assert html.index(numbers[5]) < html.index(numbers[1])  # newest first
    assert "130" in html  # 2 × 65, tax included


def test_a_new_merchant_sees_what_is_missing_and_no_made_up_announcements(signed_in) -> None:
    browser, _ = signed_in()
    html = text_of(browser.get("/console"))
    assert "開立發票前還需要" in html
    # A QR-code key was generated at sign-up: only the numbers are missing.
    assert 'href="/console/settings/qr-key"' not in html and 'href="/console/tracks"' in html
    assert "尚未開立任何發票" in html
    assert "目前沒有公告" in html
    assert 'href="/console/issue"' in html  # the quick link to issue online


def test_the_dashboard_in_english(signed_in) -> None:
    browser, _ = signed_in()
    html = text_of(browser.get("/console?lang=en"))
    for label in ("Dashboard", "Your business", "This period", "VAT return due", "Numbers left per channel"):
        assert label in html
    assert "Latest invoices" in html and "No announcements at the moment." in html
    assert "個人專區" not in html.split("<main", 1)[1]
