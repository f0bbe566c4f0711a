"""發票查詢 (invoices) over HTTP: filters and pages, one invoice, its downloads and its changes,
and that another merchant finds none of it."""

from __future__ import annotations

import html
import re
import urllib.request
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from chalicelib.api import deps
from chalicelib.domain.period import TAIWAN_TZ, Period
from tests.api.conftest import body_of, post_json, random_ubn, register_business
from tests.api.test_invoices import B2B, B2C_CARRIER, Issuer, make_issuer
from tests.web.conftest import Console, console_of, text_of
from tests.web.test_issue_pages import b2c_carrier_form, error_under, form_key, issued_number, totals

_LISTED = re.compile(r'<a href="/console/invoices/([A-Z]{2}[0-9]{8})">')


class ShiftedClock:
    def __init__(self, delta: timedelta) -> None:
        self.delta = delta

    def now(self) -> datetime:
        return datetime.now(TAIWAN_TZ) + self.delta


def issue(client, who: Issuer, payload: dict[str, Any]) -> str:
    response = post_json(client, "/v1/invoices", payload, who.headers)
    assert response.status_code == 201, response.body
    return str(body_of(response)["invoice_number"])


def listed(response: Any) -> list[str]:
    assert response.status_code == 200, text_of(response)
    return _LISTED.findall(text_of(response))


def detail(client, who: Issuer, number: str) -> dict[str, Any]:
    return body_of(client.http.get(f"/v1/invoices/{number}", headers=who.headers))


def allow(client, who: Issuer, number: str) -> Any:
    """An allowance (折讓) of 105 on invoice ``number``, through the JSON API: the API's answer."""
    line = {
        "original_invoice_number": number,
        "description": "折讓",
        "quantity": "1",
        "unit_price": "105",
        "tax_type": "1",
    }
    return post_json(client, "/v1/allowances", {"items": [line]}, who.headers)


# --- the list -----------------------------------------------------------------------------------


def test_every_filter_of_the_list_route(client, seller: Console, issuer: Issuer) -> None:
    consumer = issue(client, issuer, B2C_CARRIER)  # 2 x 65 = 130, mobile barcode /ABC+123
    business = issue(client, issuer, {**B2B, "order_id": "PO-7"})  # 1380, to 22099131
    cancelled = issue(client, issuer, {**B2C_CARRIER, "carrier": {"type": "3J0002", "id": "/XYZ-789"}})
    assert post_json(client, f"/v1/invoices/{cancelled}/cancel", {"reason": "退貨"}, issuer.headers).status_code == 200
    allowed = issue(client, issuer, B2B)
    line = {
        "original_invoice_number": allowed,
        "description": "折讓",
        "quantity": "1",
        "unit_price": "105",
        "tax_type": "1",
    }
    assert post_json(client, "/v1/allowances", {"items": [line]}, issuer.headers).status_code == 201
    reissued = issue(client, issuer, B2C_CARRIER)
    void = {
        "reason": "補打統編",
        "replacement": {"buyer": {"ubn": "22099131", "name": "買方"}, "carrier": None, "print": True},
    }
    assert post_json(client, f"/v1/invoices/{reissued}/void", void, issuer.headers).status_code == 200

    everything = listed(seller.get("/console/invoices"))
    assert everything == [reissued, allowed, cancelled, business, consumer], "newest first"
    today = datetime.now(TAIWAN_TZ).date().isoformat()
    period = Period.from_date(datetime.now(TAIWAN_TZ).date()).code
    assert listed(seller.get(f"/console/invoices?period={period}")) == everything
    assert listed(seller.get(f"/console/invoices?date_from={today}&date_to={today}")) == everything
    assert listed(seller.get("/console/invoices?date_to=2001-01-01")) == []
    assert listed(seller.get("/console/invoices?buyer_ubn=22099131")) == [reissued, allowed, business]
    assert listed(seller.get("/console/invoices?status=cancelled")) == [cancelled]
    assert listed(seller.get("/console/invoices?carrier_id=" + quote("/XYZ-789", safe=""))) == [cancelled]
    assert listed(seller.get("/console/invoices?min_total=1000")) == [allowed, business]
    # the re-issued one kept its items (2 x 65 = 130) when it got the buyer UBN
    assert listed(seller.get("/console/invoices?max_total=200")) == [reissued, cancelled, consumer]
    assert listed(seller.get("/console/invoices?order_id=PO-7")) == [business]
    assert listed(seller.get("/console/invoices?has_allowances=true")) == [allowed]
    assert allowed not in listed(seller.get("/console/invoices?has_allowances=false"))
    assert listed(seller.get("/console/invoices?voided=true")) == [reissued]
    assert reissued not in listed(seller.get("/console/invoices?voided=false"))
    # the filters stay in the form, so the page is the search
    page = text_of(seller.get("/console/invoices?status=cancelled&min_total=10"))
    assert re.search(r'<option value="cancelled" selected>', page) and 'value="10"' in page


def test_pages_follow_the_cursor_and_keep_the_filters(client, seller: Console, issuer: Issuer) -> None:
    numbers = [issue(client, issuer, B2C_CARRIER) for _ in range(3)]
    whole = seller.get("/console/invoices?limit=20&max_total=500")
    assert listed(whole) == numbers[::-1] and 'rel="next"' not in text_of(whole)
    # pages of one: each answer links to the next until none is left
    seen: list[str] = []
    path = "/console/invoices?limit=1&max_total=500"
    while path:
        response = seller.get(path)
        seen += listed(response)
        match = re.search(r'rel="next" href="([^"]+)"', text_of(response))
        path = html.unescape(match.group(1)) if match else ""
        if path:
            assert "max_total=500" in path and "limit=1" in path
    assert seen == numbers[::-1]


def test_bad_filters_are_shown_under_their_field(seller: Console) -> None:
    bad_ubn = seller.get("/console/invoices?buyer_ubn=123")
    assert bad_ubn.status_code == 422 and error_under(bad_ubn, "f-buyer_ubn")
    bad_period = seller.get("/console/invoices?period=11313")
    assert bad_period.status_code == 422 and "期別" in error_under(bad_period, "f-period")
    backwards = seller.get("/console/invoices?date_from=2026-03-02&date_to=2026-03-01")
    assert backwards.status_code == 422 and error_under(backwards, "f-date_to")
    tampered = seller.get("/console/invoices?cursor=not-a-cursor")
    assert tampered.status_code == 422 and "分頁游標無效" in text_of(tampered)


def test_another_merchants_cursor_opens_nothing(
    client, seller: Console, issuer: Issuer, staff_headers, new_merchant
) -> None:
    for _ in range(2):
        issue(client, issuer, B2C_CARRIER)
    page = text_of(seller.get("/console/invoices?limit=1"))
    cursor = html.unescape(re.search(r'rel="next" href="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    other = make_issuer(client, staff_headers, new_merchant)
    stranger = console_of(client, other.ubn)
    response = stranger.get(cursor)
    assert response.status_code == 422 and _LISTED.findall(text_of(response)) == []


def test_the_list_in_english(seller: Console) -> None:
    page = text_of(seller.get("/console/invoices?lang=en"))
    assert "Invoices" in page and "Buyer UBN" in page and "Search" in page and "發票號碼" not in page


# --- one invoice --------------------------------------------------------------------------------


def test_the_detail_shows_the_invoice_its_proof_and_history(client, seller: Console, issuer: Issuer) -> None:
    number = issue(client, issuer, B2B)
    page = text_of(seller.get(f"/console/invoices/{number}"))
    assert number in page and "22099131" in page and "顧問服務" in page
    shown = totals(seller.get(f"/console/invoices/{number}"))
    # 1380 tax-inclusive to a business: 1380 / 1.05 = 1314.28 → 1314, tax 66
    assert (shown["銷售額（未稅）"], shown["營業稅"], shown["總計"]) == ("1,314", "66", "1,380")
    assert page.count('src="data:image/svg+xml') == 2, "both QR codes of the proof"
    assert f'href="/console/invoices/{number}/pdf?layout=proof"' in page
    assert f'href="/console/invoices/{number}/xml"' in page
    assert "歷程" in page and "開立" in page


def test_the_detail_in_english(client, seller: Console, issuer: Issuer) -> None:
    number = issue(client, issuer, B2C_CARRIER)
    page = text_of(seller.get(f"/console/invoices/{number}?lang=en"))
    for text in ("History", "Download the proof PDF", "Cancel the invoice", "Issue an allowance", "Business tax"):
        assert text in page
    assert "歷程" not in page


def test_downloads_are_the_api_documents(client, seller: Console, issuer: Issuer) -> None:
    number = issue(client, issuer, B2C_CARRIER)
    for layout in ("proof", "a4"):
        response = seller.get(f"/console/invoices/{number}/pdf?layout={layout}&download=true")
        assert response.status_code == 302
        with urllib.request.urlopen(response.headers["Location"]) as answer:  # noqa: S310 - moto, local
            assert answer.read().startswith(b"%PDF")
            assert "attachment" in answer.headers["Content-Disposition"]
    xml = seller.get(f"/console/invoices/{number}/xml")
    assert xml.status_code == 200 and "attachment" in xml.headers["Content-Disposition"]
    assert f"<InvoiceNumber>{number}</InvoiceNumber>" in text_of(xml)
    assert seller.get(f"/console/invoices/{number}/pdf?layout=letter").status_code == 400


# --- another merchant -----------------------------------------------------------------------------


def test_another_merchant_finds_nothing_of_an_invoice(client, issuer: Issuer, staff_headers, new_merchant) -> None:
    number = issue(client, issuer, B2B)
    allowance = body_of(allow(client, issuer, number))["allowance_number"]
    other = make_issuer(client, staff_headers, new_merchant)
    stranger = console_of(client, other.ubn)
    base = f"/console/invoices/{number}"
    for path in (
        base,
        f"{base}/pdf?layout=proof",
        f"{base}/pdf?layout=a4",
        f"{base}/xml",
        f"{base}/cancel",
        f"{base}/void",
        f"{base}/allowance",
        f"{base}/notify",
        f"{base}/allowances/{allowance}/cancel",
    ):
        response = stranger.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert "查無此" in text_of(response)
    forms = {
        f"{base}/cancel": {"reason": "不是我的"},
        f"{base}/void": {"reason": "不是我的", "buyer_kind": "b2c", "delivery": "print"},
        f"{base}/allowance": {"step": "confirm", "items[0].quantity": "1", "items[0].unit_price": "1"},
        f"{base}/notify": {"channels": "email", "email": "x@example.com"},
        f"{base}/allowances/{allowance}/cancel": {"reason": "不是我的"},
    }
    for path, form in forms.items():
        response = stranger.post(path, form)
        assert response.status_code == 404, (path, response.status_code)
    after = detail(client, issuer, number)
    assert after["status"] == "issued" and after["allowance_count"] == 1
    assert [h["event"] for h in after["history"]] == ["issued", "allowance"]


def test_an_allowance_of_another_invoice_is_not_found_under_this_one(client, seller: Console, issuer: Issuer) -> None:
    one, two = issue(client, issuer, B2B), issue(client, issuer, B2B)
    allowance = body_of(allow(client, issuer, one))["allowance_number"]
    assert seller.get(f"/console/invoices/{two}/allowances/{allowance}/cancel").status_code == 404
    assert seller.get(f"/console/invoices/{one}/allowances/{allowance}/cancel").status_code == 200


def test_every_invoice_page_needs_sign_in(console: Console) -> None:
    base = "/console/invoices/AB00000000"
    for path in (
        "/console/invoices",
        base,
        f"{base}/pdf",
        f"{base}/xml",
        f"{base}/cancel",
        f"{base}/void",
        f"{base}/allowance",
        f"{base}/notify",
        f"{base}/allowances/AL1/cancel",
    ):
        response = console.get(path)
        assert response.status_code == 303 and response.headers["Location"].startswith("/login?next=/console/invoices")
    for path in (
        f"{base}/cancel",
        f"{base}/void",
        f"{base}/allowance",
        f"{base}/notify",
        f"{base}/allowances/AL1/cancel",
    ):
        assert console.post(path, {"reason": "x"}).headers["Location"] == "/login"


# --- cancel (作廢) ----------------------------------------------------------------------------------


def test_cancel_says_the_deadline_then_cancels(client, seller: Console, issuer: Issuer) -> None:
    number = issue(client, issuer, B2C_CARRIER)
    today = datetime.now(TAIWAN_TZ).date()
    # The period ends with an even month; its return is due the 15th of the month after.
    end_month = (today.month + 1) // 2 * 2
    deadline = f"{today.year + 1}-01-15" if end_month == 12 else f"{today.year}-{end_month + 1:02d}-15"
    page = seller.get(f"/console/invoices/{number}/cancel")
    assert page.status_code == 200 and deadline in text_of(page) and "無法復原" in text_of(page)
    missing = seller.post(f"/console/invoices/{number}/cancel", {"reason": ""})
    assert missing.status_code == 422 and error_under(missing, "f-reason")
    assert detail(client, issuer, number)["status"] == "issued"
    done = seller.post(f"/console/invoices/{number}/cancel", {"reason": "客戶退貨"})
    assert done.status_code == 303 and done.headers["Location"] == f"/console/invoices/{number}?done=cancelled"
    after = detail(client, issuer, number)
    assert after["status"] == "cancelled" and after["cancellation"]["reason"] == "客戶退貨"
    page = text_of(seller.get(done.headers["Location"]))
    assert "發票已作廢" in page and "客戶退貨" in page
    again = seller.post(f"/console/invoices/{number}/cancel", {"reason": "再一次"})
    assert again.status_code == 422 and "僅已開立的發票" in text_of(again)


def test_cancel_after_the_deadline_asks_for_the_approval_number(client, seller: Console, issuer, monkeypatch) -> None:
    number = issue(client, issuer, B2C_CARRIER)
    monkeypatch.setattr(deps, "rules_clock", lambda: ShiftedClock(timedelta(days=100)))
    page = text_of(seller.get(f"/console/invoices/{number}/cancel"))
    assert "已逾申報期限" in page and "專案作廢核准文號（必填）" in page
    refused = seller.post(f"/console/invoices/{number}/cancel", {"reason": "退貨"})
    assert refused.status_code == 422 and error_under(refused, "f-return_tax_document_number")
    done = seller.post(
        f"/console/invoices/{number}/cancel", {"reason": "退貨", "return_tax_document_number": "北區國稅字第1號"}
    )
    assert done.status_code == 303 and detail(client, issuer, number)["status"] == "cancelled"


# --- void and re-issue (註銷重開, 補打統編) -------------------------------------------------------------


def test_adding_the_buyers_ubn_by_void_and_reissue(client, seller: Console, issuer: Issuer) -> None:
    number = issued_number(seller.post("/console/issue", b2c_carrier_form(form_key(seller), delivery="print")))
    page = text_of(seller.get(f"/console/invoices/{number}/void"))
    assert "48 小時" in page and 'id="delivery-print" name="delivery" value="print" checked' in page
    form = {"reason": "補打統編", "buyer_kind": "b2b", "buyer.ubn": "22099131", "buyer.name": "", "print": ["0", "1"]}
    missing = seller.post(f"/console/invoices/{number}/void", form)
    assert missing.status_code == 422 and error_under(missing, "f-buyer-name")
    done = seller.post(f"/console/invoices/{number}/void", {**form, "buyer.name": "台積電"})
    assert done.status_code == 303 and done.headers["Location"].endswith("?done=voided")
    after = detail(client, issuer, number)
    assert after["buyer"]["ubn"] == "22099131" and after["status"] == "issued"
    # the same 3 x 105 = 315 now to a business: sales 300 and tax 15 shown apart
    assert (after["amounts"]["sales_amount"], after["amounts"]["tax_amount"], after["amounts"]["total_amount"]) == (
        300,
        15,
        315,
    )
    assert [h["event"] for h in after["history"]] == ["issued", "voided", "reissued"]


def test_void_after_48_hours_is_closed(client, seller: Console, issuer: Issuer, monkeypatch) -> None:
    number = issue(client, issuer, B2C_CARRIER)
    monkeypatch.setattr(deps, "rules_clock", lambda: ShiftedClock(timedelta(hours=49)))
    page = text_of(seller.get(f"/console/invoices/{number}/void"))
    assert "已超過註銷重開期限" in page and 'name="reason"' not in page
    refused = seller.post(
        f"/console/invoices/{number}/void", {"reason": "改載具", "buyer_kind": "b2c", "delivery": "print"}
    )
    assert refused.status_code == 422 and "48 小時" in text_of(refused)


# --- allowances (折讓) ------------------------------------------------------------------------------


def test_an_allowance_is_reviewed_then_issued_once_then_cancelled(client, seller: Console, issuer: Issuer) -> None:
    number = issue(
        client,
        issuer,
        {**B2B, "items": [{"description": "顧問服務", "quantity": "3", "unit_price": "105", "tax_type": "1"}]},
    )
    form_page = text_of(seller.get(f"/console/invoices/{number}/allowance"))
    assert "315" in form_page and "不能作廢或註銷重開" in form_page
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form_page).group(1)  # type: ignore[union-attr]
    form = {
        "idempotency_key": key,
        "items[0].quantity": "1",
        "items[0].unit_price": "105",
        "prices_include_tax": "true",
    }
    review = seller.post(f"/console/invoices/{number}/allowance", form)
    assert review.status_code == 200
    shown = totals(review)
    # 105 tax-inclusive: 105 / 1.05 = 100 before tax, tax 5; 315 - 105 = 210 still allowable
    assert (shown["折讓金額（未稅）"], shown["折讓稅額"], shown["折讓合計"]) == ("100", "5", "105")
    assert shown["原發票剩餘可折讓（折讓後）"] == "210"
    assert detail(client, issuer, number)["allowance_count"] == 0, "the review issues nothing"
    confirm = {**form, "step": "confirm"}
    first = seller.post(f"/console/invoices/{number}/allowance", confirm)
    second = seller.post(f"/console/invoices/{number}/allowance", confirm)  # a double click
    assert first.status_code == second.status_code == 303
    after = detail(client, issuer, number)
    assert (after["allowance_count"], after["allowance_remaining"]) == (1, 210)
    page = text_of(seller.get(first.headers["Location"]))
    assert "折讓單已開立" in page
    allowance = re.search(r'/allowances/([0-9A-Za-z_-]+)/cancel"', page).group(1)  # type: ignore[union-attr]
    cancel_page = text_of(seller.get(f"/console/invoices/{number}/allowances/{allowance}/cancel"))
    assert "105" in cancel_page and "無法復原" in cancel_page
    done = seller.post(f"/console/invoices/{number}/allowances/{allowance}/cancel", {"reason": "誤開"})
    assert done.status_code == 303
    after = detail(client, issuer, number)
    assert (after["allowance_count"], after["allowance_remaining"]) == (0, 315)


def test_an_allowance_too_large_is_refused_at_the_items(client, seller: Console, issuer: Issuer) -> None:
    number = issue(client, issuer, B2B)  # 1380
    form = {"idempotency_key": "k" * 24, "items[0].quantity": "2", "items[0].unit_price": "1380", "step": "confirm"}
    response = seller.post(f"/console/invoices/{number}/allowance", form)
    assert response.status_code == 422 and "超過原發票總計" in html.unescape(text_of(response))
    bad = seller.post(f"/console/invoices/{number}/allowance", {"items[0].quantity": "x", "items[0].unit_price": "1"})
    assert bad.status_code == 422 and error_under(bad, "f-items-0-quantity")
    nothing = seller.post(f"/console/invoices/{number}/allowance", {"items[0].quantity": ""})
    assert nothing.status_code == 422 and "至少於一個品項" in text_of(nothing)
    assert detail(client, issuer, number)["allowance_count"] == 0


def test_an_invoice_with_an_allowance_cannot_be_cancelled_until_the_allowance_is(client, seller, issuer) -> None:
    number = issue(client, issuer, B2B)
    assert allow(client, issuer, number).status_code == 201
    page = text_of(seller.get(f"/console/invoices/{number}/cancel"))
    assert "請先作廢折讓單" in page and 'name="reason"' not in page
    refused = seller.post(f"/console/invoices/{number}/cancel", {"reason": "退貨"})
    assert refused.status_code == 422 and "請先作廢折讓單" in text_of(refused)


# --- send again -----------------------------------------------------------------------------------


def test_send_again_queues_the_notice(client, seller: Console, issuer: Issuer) -> None:
    number = issue(client, issuer, B2C_CARRIER)
    page = text_of(seller.get(f"/console/invoices/{number}/notify"))
    assert "buyer@example.com" in page and "不會改變" in page
    none = seller.post(f"/console/invoices/{number}/notify", {})
    assert none.status_code == 422 and 'id="channels-error"' in text_of(none)
    bad = seller.post(f"/console/invoices/{number}/notify", {"channels": "sms", "mobile": "12345"})
    assert bad.status_code == 422 and error_under(bad, "f-mobile")
    done = seller.post(f"/console/invoices/{number}/notify", {"channels": "email", "email": "again@example.com"})
    assert done.status_code == 303 and done.headers["Location"].endswith("?done=notified")
    history = detail(client, issuer, number)["history"]
    assert history[-1]["event"] == "notified" and history[-1]["detail"]["channels"] == ["email"]


def test_send_again_without_any_address_says_so(client, seller: Console, issuer: Issuer) -> None:
    number = issue(client, issuer, {**B2C_CARRIER, "buyer": {"name": "無信箱"}})
    response = seller.post(f"/console/invoices/{number}/notify", {"channels": "email"})
    assert response.status_code == 422 and "沒有可寄送的對象" in text_of(response)


def test_the_registered_buyer_name_lookup_is_the_lookup_service(client, seller: Console, staff_headers) -> None:
    buyer = random_ubn()
    name = register_business(client, staff_headers, buyer)
    looked_up = body_of(client.http.get(f"/v1/lookup/ubn/{buyer}"))
    page = text_of(seller.get(f"/console/issue/buyer?buyer.ubn={buyer}"))
    assert looked_up["name"] == name and f'value="{html.escape(name)}"' in page
