"""The business-tax return (報稅) in the console, over Chalice's test client."""

from __future__ import annotations

import calendar
import re
import urllib.request
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.period import Period
from tests.api.conftest import body_of, post_json
from tests.api.test_filings import _at, _current, _due_by, _move_to
from tests.api.test_invoices import B2B, B2C_CARRIER
from tests.web.conftest import Console, console_of, error_of, text_of


def _issue(client, who, payload) -> dict[str, Any]:
    response = post_json(client, "/v1/invoices", payload, who.headers)
    assert response.status_code == 201, response.body
    return body_of(response)


def _box(page: Any, code: str) -> str:
    """The amount in the return's table row of box ``code``, as shown."""
    match = re.search(
        rf'<tr id="box-{code}"><td class="code">{code}</td><th scope="row">[^<]*</th><td class="num">([^<]*)</td>',
        text_of(page),
    )
    assert match, f"box {code} is not shown"
    return match.group(1)


def _after_the_period(monkeypatch, period: Period, days: int = 2) -> None:
    _move_to(monkeypatch, _at(period.next().first_day + timedelta(days=days)))


def _download(browser: Console, path: str) -> bytes:
    response = browser.get(path)
    assert response.status_code == 303, (path, response.status_code)
    with urllib.request.urlopen(response.headers["Location"], timeout=10) as answer:  # noqa: S310 - local moto
        return answer.read()


# --- sign-in ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/console/filings",
        "/console/filings/11410",
        "/console/filings/11410/versions/1/pdf",
        "/console/filings/11410/blank-numbers/E0402-AB-07.xml",
    ],
)
def test_every_page_needs_a_signed_in_merchant(console: Console, path: str) -> None:
    response = console.get(path)
    assert response.status_code == 303 and response.headers["Location"] == f"/login?next={path}"


@pytest.mark.parametrize("action", ["submit", "payment", "reconcile", "blank-numbers"])
def test_every_change_needs_a_signed_in_merchant(console: Console, action: str) -> None:
    response = console.post(f"/console/filings/11410/{action}", {})
    assert response.status_code == 303 and response.headers["Location"] == "/login"


def test_a_change_without_the_csrf_token_changes_nothing(client, issuer, monkeypatch) -> None:
    browser = console_of(client, issuer.ubn)
    period = _current()
    _after_the_period(monkeypatch, period)
    path = f"/console/filings/{period.code}"
    for action, form in (
        ("submit", {"confirmed": "yes"}),
        ("payment", {"amount": "1", "paid_on": str(period.next().first_day), "reference": "X"}),
        ("reconcile", {}),
        ("blank-numbers", {}),
    ):
        assert browser.post(f"{path}/{action}", form, csrf=False).status_code == 403, action
    page = text_of(browser.get(path))
    assert "待申報" in page and "已申報版本" not in page and "本期尚未對帳" in page


# --- reading ------------------------------------------------------------------------------------------


def test_the_list_shows_the_current_period_running_and_its_deadline(signed_in) -> None:
    browser, _ = signed_in()
    period = _current()
    page = browser.get("/console/filings")
    assert page.status_code == 200
    shown = text_of(page)
    assert f'href="/console/filings/{period.code}"' in shown and period.label_zh in shown
    assert "本期進行中" in shown and str(_due_by(period)) in shown
    assert f'href="/console/filings/{period.previous().code}"' in shown
    older = re.search(r'href="/console/filings\?before=(\d{5})"', shown)
    assert older
    earlier = text_of(browser.get(f"/console/filings?before={older.group(1)}"))
    assert f'href="/console/filings/{older.group(1)}"' in earlier
    english = text_of(browser.get("/console/filings?lang=en"))
    assert "Business-tax returns" in english and "Period running" in english and "Due by" in english
    months = f"{calendar.month_abbr[period.end_month - 1]}–{calendar.month_abbr[period.end_month]}"
    assert f"{months} {period.first_day.year}" in english and period.label_zh not in english


def test_the_return_is_shown_box_by_box_and_follows_the_invoices(client, issuer) -> None:
    browser = console_of(client, issuer.ubn)
    period = _current()
    path = f"/console/filings/{period.code}"
    before = browser.get(path)
    assert before.status_code == 200
    assert _box(before, "5") == "0" and _box(before, "111") == "0"
    page = text_of(before)
    assert "應稅銷售額" in page and "本期(月)應實繳稅額" in page and "代號" in page
    assert "依目前的發票即時計算" in page
    assert "檢查並申報" not in page  # the period is still running: nothing to file yet
    assert str(_due_by(period)) in page

    _issue(client, issuer, B2B)  # 1,380 tax included: 1,314 + 66
    after = browser.get(path)
    assert (_box(after, "5"), _box(after, "6"), _box(after, "21"), _box(after, "22")) == ("1,314", "66", "1,314", "66")
    assert (_box(after, "101"), _box(after, "111")) == ("66", "66")

    english = text_of(browser.get(path + "?lang=en"))
    assert "Taxable sales" in english and "Tax payable" in english and "Box" in english
    assert "應稅銷售額" not in english


def test_a_malformed_or_future_period_is_an_error_page(signed_in) -> None:
    browser, _ = signed_in()
    assert browser.get("/console/filings/11411").status_code == 400
    assert browser.get("/console/filings/abc").status_code == 400
    future = browser.get(f"/console/filings/{_current().next().next().code}")
    assert future.status_code == 422 and "尚未開始" in text_of(future)


# --- filing ---------------------------------------------------------------------------------------------


def test_filing_is_confirmed_first_then_filed_once_and_corrected_with_a_reason(client, issuer, monkeypatch) -> None:
    browser = console_of(client, issuer.ubn)
    period = _current()
    path = f"/console/filings/{period.code}"
    _issue(client, issuer, B2B)
    early = browser.post(f"{path}/submit", {})
    assert early.status_code == 422 and 'class="error banner"' in text_of(early) and "期間至" in text_of(early)

    _after_the_period(monkeypatch, period)
    ready = text_of(browser.get(path))
    assert "待申報" in ready and "檢查並申報" in ready

    confirm = browser.post(f"{path}/submit", {"previous_credit": "", "other_purchases.amount": ""})
    assert confirm.status_code == 200
    page = text_of(confirm)
    assert "確認申報" in page and "送出後會發生什麼" in page
    assert f"申報期限：<strong>{_due_by(period).isoformat()}</strong>" in page
    assert "第 1 版" in page and "專案作廢核准文號" in page
    assert "已申報版本" not in text_of(browser.get(path))  # nothing filed by the review step
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert key

    form = {"confirmed": "yes", "idempotency_key": key.group(1), "previous_credit": "", "reason": ""}
    filed = browser.post(f"{path}/submit", form)
    assert filed.status_code == 303 and filed.headers["Location"] == f"{path}?done=filed"
    # The confirmation sent twice (a double click) files one version.
    assert browser.post(f"{path}/submit", form).status_code == 303
    shown = text_of(browser.get(f"{path}?done=filed"))
    assert "申報書已送出" in shown and "已申報版本" in shown and "顯示已申報版本的數字" in shown
    assert f"{path}/versions/1/pdf" in shown and f"{path}/versions/2/pdf" not in shown
    assert _download(browser, f"{path}/versions/1/pdf").startswith(b"%PDF")
    document = _download(browser, f"{path}/versions/1/json")
    assert b'"111": 66' in document

    # A correction needs a reason, said before the confirmation.
    no_reason = browser.post(f"{path}/submit", {"reason": ""})
    assert no_reason.status_code == 422 and error_of(no_reason, "f-reason")
    review = browser.post(
        f"{path}/submit", {"reason": "補列紙本進項", "other_purchases.amount": "100", "other_purchases.tax": "5"}
    )
    assert review.status_code == 200 and "確認更正申報" in text_of(review) and "補列紙本進項" in text_of(review)
    # What will be filed, with the 5 of input tax typed in: 66 - 5.
    assert '<span class="value" data-box="111">61</span>' in text_of(review)
    assert "本期應實繳稅額 61 元" in text_of(review)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', text_of(review))
    corrected = browser.post(
        f"{path}/submit",
        {
            "confirmed": "yes",
            "idempotency_key": key.group(1) if key else "",
            "reason": "補列紙本進項",
            "other_purchases.amount": "100",
            "other_purchases.tax": "5",
            "previous_credit": "",
        },
    )
    assert corrected.status_code == 303
    after = browser.get(path)
    assert (_box(after, "28"), _box(after, "29"), _box(after, "111")) == ("100", "5", "61")
    assert "補列紙本進項" in text_of(after) and f"{path}/versions/2/pdf" in text_of(after)


def test_bad_submission_values_are_shown_next_to_their_field(client, issuer, monkeypatch) -> None:
    browser = console_of(client, issuer.ubn)
    period = _current()
    _after_the_period(monkeypatch, period)
    path = f"/console/filings/{period.code}"
    negative = browser.post(f"{path}/submit", {"previous_credit": "-1"})
    assert negative.status_code == 422 and error_of(negative, "f-previous_credit")
    words = browser.post(f"{path}/submit", {"other_purchases.amount": "lots"})
    assert words.status_code == 422 and error_of(words, "f-other_purchases-amount")


def test_a_late_filing_is_said_to_be_late_before_it_is_filed(client, issuer, monkeypatch) -> None:
    browser = console_of(client, issuer.ubn)
    period = _current()
    _move_to(monkeypatch, _at(_due_by(period) + timedelta(days=1)))
    page = text_of(browser.post(f"/console/filings/{period.code}/submit", {}))
    assert "已超過申報期限" in page
    _move_to(monkeypatch, _at(_due_by(period), hour=23))
    on_the_day = text_of(browser.post(f"/console/filings/{period.code}/submit", {}))
    assert "確認申報" in on_the_day and "已超過申報期限" not in on_the_day


def test_payments_are_recorded_and_bad_ones_explained_at_their_field(client, issuer, monkeypatch) -> None:
    browser = console_of(client, issuer.ubn)
    period = _current()
    path = f"/console/filings/{period.code}"
    _issue(client, issuer, B2B)  # tax 66
    _after_the_period(monkeypatch, period, days=3)
    paid_on = str(period.next().first_day)
    not_filed = browser.post(f"{path}/payment", {"amount": "66", "paid_on": paid_on, "reference": "SLIP-1"})
    assert not_filed.status_code == 422 and "請先申報本期營業稅" in text_of(not_filed)
    assert post_json(client, f"/v1/filings/{period.code}/submit", {}, issuer.headers).status_code == 201

    zero = browser.post(f"{path}/payment", {"amount": "0", "paid_on": paid_on, "reference": "SLIP-1"})
    assert zero.status_code == 422 and error_of(zero, "f-amount")
    bad_date = browser.post(f"{path}/payment", {"amount": "10", "paid_on": "yesterday", "reference": "SLIP-1"})
    assert bad_date.status_code == 422 and error_of(bad_date, "f-paid_on")
    future = str(period.next().first_day + timedelta(days=10))
    later = browser.post(f"{path}/payment", {"amount": "10", "paid_on": future, "reference": "SLIP-1"})
    assert later.status_code == 422 and "不可晚於今日" in error_of(later, "f-paid_on")
    spaces = browser.post(f"{path}/payment", {"amount": "10", "paid_on": paid_on, "reference": "SLIP 1"})
    assert spaces.status_code == 422 and error_of(spaces, "f-reference")
    assert 'value="SLIP 1"' in text_of(spaces)  # what was typed stays

    first = browser.post(f"{path}/payment", {"amount": "40", "paid_on": paid_on, "reference": "SLIP-1"})
    assert first.status_code == 303
    partly = text_of(browser.get(path))
    assert "部分繳納" in partly and "SLIP-1" in partly
    clash = browser.post(f"{path}/payment", {"amount": "26", "paid_on": paid_on, "reference": "SLIP-1"})
    assert clash.status_code == 422 and error_of(clash, "f-reference")
    assert (
        browser.post(f"{path}/payment", {"amount": "26", "paid_on": paid_on, "reference": "SLIP-2"}).status_code == 303
    )
    done = text_of(browser.get(path))
    assert "已繳清" in done and "已申報並繳清" in done


def test_reconciliation_and_blank_numbers_from_the_page(client, issuer, monkeypatch) -> None:
    browser = console_of(client, issuer.ubn)
    period = _current()
    path = f"/console/filings/{period.code}"
    _issue(client, issuer, B2C_CARRIER)
    assert "本期尚未對帳" in text_of(browser.get(path))
    reconciled = browser.post(f"{path}/reconcile", {})
    assert reconciled.status_code == 303 and reconciled.headers["Location"].startswith(f"{path}?done=reconciled")
    assert "合計相符" in text_of(browser.get(path))

    early = browser.post(f"{path}/blank-numbers", {})
    assert early.status_code == 422 and "期間至" in text_of(early)
    _after_the_period(monkeypatch, period)
    # make_issuer allocates 300 numbers; one is used: 299 left, listed before they are filed.
    preview = text_of(browser.get(path))
    assert "申報空白字軌" in preview and ">299<" in preview
    assert browser.post(f"{path}/blank-numbers", {}).status_code == 303
    filed = text_of(browser.get(path))
    names = re.findall(rf'href="{path}/blank-numbers/(E0402-[A-Z]{{2}}-0[78]\.xml)"', filed)
    assert names and "申報空白字軌" not in filed
    assert b"BranchTrackBlank" in _download(browser, f"{path}/blank-numbers/{names[0]}")


def test_another_merchant_sees_its_own_return_and_none_of_these_documents(
    client, issuer, signed_in, monkeypatch
) -> None:
    period = _current()
    path = f"/console/filings/{period.code}"
    _issue(client, issuer, B2B)
    _after_the_period(monkeypatch, period)
    assert post_json(client, f"/v1/filings/{period.code}/submit", {}, issuer.headers).status_code == 201
    assert post_json(client, f"/v1/filings/{period.code}/blank-numbers", {}, issuer.headers).status_code == 201
    owner = text_of(console_of(client, issuer.ubn).get(path))
    name = re.search(rf'href="{path}/blank-numbers/(E0402-[A-Z]{{2}}-0[78]\.xml)"', owner)
    assert name

    stranger, _ = signed_in()
    theirs = stranger.get(path)
    assert _box(theirs, "5") == "0" and "已申報版本" not in text_of(theirs)
    for kind in ("pdf", "json"):
        assert stranger.get(f"{path}/versions/1/{kind}").status_code == 404
    assert stranger.get(f"{path}/blank-numbers/{name.group(1)}").status_code == 404
    assert stranger.get(f"{path}/versions/1/exe").status_code == 404
    assert stranger.get(f"{path}/blank-numbers/passwd").status_code == 404
