"""Tax filing over HTTP (issue 9): the return from running totals, filing, payment, reconciliation, jobs."""

from __future__ import annotations

import json
import secrets
import urllib.request
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from chalicelib.adapters.dynamo import dynamodb, to_item
from chalicelib.adapters.dynamo_invoices import invoices_table
from chalicelib.adapters.dynamo_merchants import DynamoMerchants
from chalicelib.adapters.taiwan_calendar import TaiwanCalendar
from chalicelib.api import deps
from chalicelib.domain.errors import RuleViolation
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.working_days import filing_deadline
from tests.api.conftest import body_of, last_code_sent_to, post_json
from tests.api.test_invoices import B2B, B2C_CARRIER, make_issuer


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


def _current() -> Period:
    return Period.from_date(datetime.now(TAIWAN_TZ).date())


def _due_by(period: Period) -> date:
    """The deadline a merchant is held to: the 15th moved off a day off by the office calendar,
    which tests/unit/test_taiwan_calendar.py checks against the government's for 2024–2026."""
    return filing_deadline(period, TaiwanCalendar())


def _at(day: Any, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TAIWAN_TZ)


def _move_to(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setattr(deps, "rules_clock", lambda: FixedClock(moment))


def _issue(client, who, payload) -> dict[str, Any]:
    response = post_json(client, "/v1/invoices", payload, who.headers)
    assert response.status_code == 201, response.body
    return body_of(response)


def _get(client, path: str, headers: dict[str, str]) -> Any:
    return client.http.get(path, headers=headers)


@pytest.fixture
def seller(client, staff_headers, new_merchant):
    return make_issuer(client, staff_headers, new_merchant)


@pytest.fixture
def buyer(client, staff_headers, new_merchant):
    return make_issuer(client, staff_headers, new_merchant)


def _worked_example(client, seller, buyer) -> None:
    """The period the hand-worked figures below come from."""
    _issue(client, seller, B2C_CARRIER)  # B2C 2 × 65 = 130, tax included
    _issue(
        client,
        seller,
        {**B2C_CARRIER, "items": [{"description": "禮盒", "quantity": "1", "unit_price": "1000", "tax_type": "1"}]},
    )
    b2b = _issue(client, seller, {**B2B, "buyer": {"ubn": buyer.ubn, "name": "買方公司"}})  # 1,380 = 1,314 + 66
    _issue(
        client,
        seller,
        {
            **B2B,
            "customs_clearance_mark": "2",
            "zero_tax_rate_reason": "71",
            "items": [{"description": "外銷貨物", "quantity": "10", "unit_price": "300", "tax_type": "2"}],
        },
    )  # zero-rated through customs 3,000
    _issue(
        client,
        seller,
        {**B2C_CARRIER, "items": [{"description": "米", "quantity": "1", "unit_price": "800", "tax_type": "3"}]},
    )
    cancelled = _issue(
        client,
        seller,
        {**B2C_CARRIER, "items": [{"description": "退單", "quantity": "1", "unit_price": "500", "tax_type": "1"}]},
    )
    response = post_json(
        client, f"/v1/invoices/{cancelled['invoice_number']}/cancel", {"reason": "訂單取消"}, seller.headers
    )
    assert response.status_code == 200, response.body
    allowance = post_json(
        client,
        "/v1/allowances",
        {
            "items": [
                {
                    "original_invoice_number": b2b["invoice_number"],
                    "description": "顧問服務折讓",
                    "quantity": "1",
                    "unit_price": "200",
                    "tax_type": "1",
                }
            ],
            "prices_include_tax": False,
        },
        seller.headers,
    )
    assert allowance.status_code == 201, allowance.body
    # What the buyer issued to the seller: the seller's input (format 25), 2,100 = 2,000 + 100.
    _issue(
        client,
        buyer,
        {
            **B2B,
            "buyer": {"ubn": seller.ubn, "name": "賣方公司"},
            "items": [{"description": "耗材", "quantity": "1", "unit_price": "2100", "tax_type": "1"}],
        },
    )


def test_the_return_matches_a_hand_worked_example_and_is_filed_once(client, seller, buyer, monkeypatch):
    period = _current()
    _worked_example(client, seller, buyer)

    # While the period runs the return is a live preview and cannot be filed.
    live = body_of(_get(client, f"/v1/filings/{period.code}", seller.headers))
    assert live["status"] == "open" and live["source"] == "live"
    early = post_json(client, f"/v1/filings/{period.code}/submit", {}, seller.headers)
    assert early.status_code == 422 and body_of(early)["error"]["code"] == "PERIOD_NOT_ENDED"

    _move_to(monkeypatch, _at(period.next().first_day + timedelta(days=2)))
    draft = body_of(_get(client, f"/v1/filings/{period.code}", seller.headers))
    assert draft["status"] == "draft_ready"
    fields = draft["fields"]
    # B2C taxable, tax included: 130 + 1,000 = 1,130 (the cancelled 500 is out); 1,130 / 1.05 = 1,076.19
    # → 1,076 sales and 54 tax. B2B as printed: 1,314 + 66.
    assert (fields["5"], fields["6"]) == (1314 + 1076, 66 + 54)
    assert (fields["7"], fields["15"]) == (0, 3000)  # zero-rated through customs
    assert (fields["17"], fields["18"], fields["19"]) == (200, 10, 0)  # allowance 200 + 5% = 10
    assert (fields["21"], fields["22"], fields["23"]) == (2390 - 200, 120 - 10, 3000)
    assert fields["25"] == 2190 + 3000
    assert (fields["32"], fields["33"], fields["44"], fields["45"]) == (2000, 100, 2000, 100)
    assert (fields["101"], fields["107"], fields["108"], fields["110"]) == (110, 100, 0, 100)
    assert (fields["111"], fields["112"], fields["113"], fields["114"], fields["115"]) == (10, 0, 150, 0, 0)
    # 800 of exempt sales make this a 403 filer; the platform says what it cannot apportion.
    assert draft["form"] == "403" and not draft["complete"]
    assert [s["code"] for s in draft["statements"]] == ["EXEMPT_SALES_403"]
    assert draft["counts"]["cancelled"] == 1 and draft["counts"]["allowances"] == 1
    assert draft["counts"]["received_invoices"] == 1
    assert draft["payment"]["amount_due"] == 10 and draft["payment"]["status"] == "due"

    # The buyer's side of the same invoices: 1,314 + 66 bought, 200 + 10 given back by the allowance.
    theirs = body_of(_get(client, f"/v1/filings/{period.code}", buyer.headers))["fields"]
    assert (theirs["32"], theirs["33"], theirs["40"], theirs["41"]) == (1314, 66, 200, 10)
    assert (theirs["5"], theirs["6"], theirs["107"], theirs["111"]) == (2000, 100, 56, 44)

    filed = post_json(client, f"/v1/filings/{period.code}/submit", {}, seller.headers)
    assert filed.status_code == 201, filed.body
    view = body_of(filed)
    assert view["status"] == "filed" and view["source"] == "filed"
    assert view["filing"]["version"] == 1 and view["filing"]["filed_by"]
    assert view["fields"] == fields

    again = post_json(client, f"/v1/filings/{period.code}/submit", {}, seller.headers)
    assert again.status_code == 409 and body_of(again)["error"]["code"] == "ALREADY_FILED"

    # The documents: a JSON with every box, and a PDF.
    link = _get(client, f"/v1/filings/{period.code}/versions/1/json", seller.headers)
    assert link.status_code == 302
    with urllib.request.urlopen(body_of(link)["url"], timeout=10) as response:  # noqa: S310
        document = json.loads(response.read())
    assert document["fields"]["111"] == 10 and document["ubn"] == seller.ubn and document["form"] == "403"
    pdf = _get(client, f"/v1/filings/{period.code}/versions/1/pdf", seller.headers)
    with urllib.request.urlopen(body_of(pdf)["url"], timeout=10) as response:  # noqa: S310
        assert response.read().startswith(b"%PDF")

    # A correction is a new version with its reason; the first stays readable.
    corrected = post_json(
        client,
        f"/v1/filings/{period.code}/submit",
        {"reason": "補列紙本進項", "other_purchases": {"amount": 100, "tax": 5}},
        seller.headers,
    )
    assert corrected.status_code == 201, corrected.body
    fixed = body_of(corrected)
    assert fixed["filing"]["version"] == 2 and fixed["filing"]["reason"] == "補列紙本進項"
    assert (fixed["fields"]["28"], fixed["fields"]["29"], fixed["fields"]["111"]) == (100, 5, 5)
    assert [v["version"] for v in fixed["versions"]] == [1, 2]


def test_a_retried_submission_with_its_idempotency_key_files_once(client, seller, monkeypatch):
    period = _current()
    _issue(client, seller, B2B)
    _move_to(monkeypatch, _at(period.next().first_day + timedelta(days=1)))
    headers = {**seller.headers, "Idempotency-Key": "file-11410-once"}
    first = post_json(client, f"/v1/filings/{period.code}/submit", {}, headers)
    assert first.status_code == 201, first.body
    retried = post_json(client, f"/v1/filings/{period.code}/submit", {}, headers)
    assert retried.status_code == 201 and body_of(retried)["filing"]["version"] == 1
    assert len(body_of(retried)["versions"]) == 1
    other_key = post_json(client, f"/v1/filings/{period.code}/submit", {}, {**seller.headers, "Idempotency-Key": "x"})
    assert other_key.status_code == 409


def test_payments_make_a_filing_partly_paid_then_paid(client, seller, buyer, monkeypatch):
    period = _current()
    _issue(client, seller, {**B2B, "buyer": {"ubn": buyer.ubn, "name": "買方"}})  # tax 66
    _move_to(monkeypatch, _at(period.next().first_day + timedelta(days=3)))
    not_filed = post_json(
        client,
        f"/v1/filings/{period.code}/payment",
        {"amount": 10, "paid_on": str(period.next().first_day), "reference": "A1"},
        seller.headers,
    )
    assert not_filed.status_code == 409 and body_of(not_filed)["error"]["code"] == "NOT_FILED"
    assert post_json(client, f"/v1/filings/{period.code}/submit", {}, seller.headers).status_code == 201
    first = post_json(
        client,
        f"/v1/filings/{period.code}/payment",
        {"amount": 40, "paid_on": str(period.next().first_day), "reference": "SLIP-1"},
        seller.headers,
    )
    assert first.status_code == 201, first.body
    payment = body_of(first)["payment"]
    assert (payment["amount_due"], payment["paid"], payment["outstanding"], payment["status"]) == (
        66,
        40,
        26,
        "partly_paid",
    )
    assert payment["reference"].startswith(seller.ubn + period.code)
    second = body_of(
        post_json(
            client,
            f"/v1/filings/{period.code}/payment",
            {"amount": 26, "paid_on": str(period.next().first_day), "reference": "SLIP-2"},
            seller.headers,
        )
    )
    assert second["payment"]["status"] == "paid" and second["status"] == "paid"
    # The same payment sent again (a retry after a lost response) is counted once...
    retried = post_json(
        client,
        f"/v1/filings/{period.code}/payment",
        {"amount": 26, "paid_on": str(period.next().first_day), "reference": "SLIP-2"},
        seller.headers,
    )
    assert retried.status_code == 201 and body_of(retried)["payment"]["paid"] == 66
    assert len(body_of(retried)["payment"]["payments"]) == 2
    # ...and another payment under a reference already used is refused.
    clash = post_json(
        client,
        f"/v1/filings/{period.code}/payment",
        {"amount": 5, "paid_on": str(period.next().first_day), "reference": "SLIP-2"},
        seller.headers,
    )
    assert clash.status_code == 409 and body_of(clash)["error"]["code"] == "PAYMENT_REFERENCE_USED"
    listed = body_of(_get(client, f"/v1/filings?before={period.code}&count=2", seller.headers))["periods"]
    assert listed[0]["period"] == period.code and listed[0]["status"] == "paid" and listed[0]["paid"] == 66


@pytest.mark.parametrize(
    "body",
    [
        {"amount": 0, "paid_on": "2025-01-01", "reference": "X"},
        {"amount": -5, "paid_on": "2025-01-01", "reference": "X"},
        {"amount": "10.5", "paid_on": "2025-01-01", "reference": "X"},
        {"amount": 10, "paid_on": "not-a-date", "reference": "X"},
        {"amount": 10, "paid_on": "2025-01-01", "reference": ""},
        {"amount": 10, "paid_on": "2025-01-01", "reference": "X", "extra": 1},
    ],
)
def test_bad_payments_are_refused_with_the_field_named(client, seller, body):
    response = post_json(client, f"/v1/filings/{_current().previous().code}/payment", body, seller.headers)
    assert response.status_code == 400, response.body
    assert body_of(response)["error"]["field"]


def test_after_filing_a_cancellation_needs_the_approval_number(client, seller, monkeypatch):
    period = _current()
    invoice = _issue(client, seller, B2C_CARRIER)
    _move_to(monkeypatch, _at(period.next().first_day + timedelta(days=1)))
    assert post_json(client, f"/v1/filings/{period.code}/submit", {}, seller.headers).status_code == 201
    path = f"/v1/invoices/{invoice['invoice_number']}/cancel"
    refused = post_json(client, path, {"reason": "錯誤"}, seller.headers)
    assert refused.status_code == 422 and body_of(refused)["error"]["code"] == "PERIOD_FILED"
    approved = post_json(
        client, path, {"reason": "錯誤", "return_tax_document_number": "財北國稅字第1130001號"}, seller.headers
    )
    assert approved.status_code == 200, approved.body
    # The filed figures stay as filed, and the return says the invoices moved since.
    view = body_of(_get(client, f"/v1/filings/{period.code}", seller.headers))
    assert view["source"] == "filed" and view["changed_since_filing"] is True


def test_reconciliation_finds_a_corrupted_total_and_filing_waits_for_the_repair(client, seller, monkeypatch):
    period = _current()
    _issue(client, seller, B2C_CARRIER)
    _issue(client, seller, B2B)
    _move_to(monkeypatch, _at(period.next().first_day + timedelta(days=1)))
    clean = post_json(client, f"/v1/filings/{period.code}/reconcile", {}, seller.headers)
    assert clean.status_code == 200 and body_of(clean)["status"] == "agrees"
    assert body_of(clean)["invoices_counted"] == 2
    # Someone (a bug, a hand edit) adds 1,000 of phantom B2C sales to the running totals.
    dynamodb().update_item(
        TableName=invoices_table(),
        Key=to_item({"pk": f"MERCHANT#{seller.ubn}", "sk": f"TOTALS#{period.code}#07"}),
        UpdateExpression="ADD b2c_taxable_total :x",
        ExpressionAttributeValues=to_item({":x": 1000}),
    )
    found = body_of(post_json(client, f"/v1/filings/{period.code}/reconcile", {}, seller.headers))
    assert found["status"] == "differences"
    assert found["differences"] == [{"totals": "07", "field": "b2c_taxable_total", "stored": 1130, "recounted": 130}]
    blocked = post_json(client, f"/v1/filings/{period.code}/submit", {}, seller.headers)
    assert blocked.status_code == 409 and body_of(blocked)["error"]["code"] == "TOTALS_DISAGREE"
    repaired = body_of(post_json(client, f"/v1/filings/{period.code}/reconcile", {"repair": True}, seller.headers))
    assert repaired["status"] == "repaired"
    assert body_of(post_json(client, f"/v1/filings/{period.code}/reconcile", {}, seller.headers))["status"] == "agrees"
    assert post_json(client, f"/v1/filings/{period.code}/submit", {}, seller.headers).status_code == 201


def test_a_long_reconciliation_resumes_where_it_stopped(seller, client, monkeypatch):
    period = _current()
    for _ in range(5):
        _issue(client, seller, B2C_CARRIER)
    reconciler = deps.reconciler()
    reconciler._page_size = 2
    calls = iter([False, True])
    first = reconciler.run(seller.ubn, period, out_of_time=lambda: next(calls, True))
    assert first["status"] == "running" and first["invoices_counted"] == 2
    done = reconciler.run(seller.ubn, period)
    assert done["status"] == "agrees" and done["invoices_counted"] == 5


def test_another_merchant_sees_only_its_own_return_and_not_these_documents(client, seller, new_merchant, monkeypatch):
    period = _current()
    _issue(client, seller, B2B)
    _move_to(monkeypatch, _at(period.next().first_day + timedelta(days=1)))
    assert post_json(client, f"/v1/filings/{period.code}/submit", {}, seller.headers).status_code == 201
    stranger = new_merchant()
    theirs = body_of(_get(client, f"/v1/filings/{period.code}", stranger.headers))
    assert theirs["fields"]["5"] == 0 and theirs["filing"] is None
    for kind in ("pdf", "json"):
        assert _get(client, f"/v1/filings/{period.code}/versions/1/{kind}", stranger.headers).status_code == 404
    paid = post_json(
        client,
        f"/v1/filings/{period.code}/payment",
        {"amount": 1, "paid_on": str(period.next().first_day), "reference": "X"},
        stranger.headers,
    )
    assert paid.status_code == 409  # nothing filed under the stranger's UBN, the seller's filing untouched
    assert body_of(_get(client, f"/v1/filings/{period.code}", seller.headers))["payment"]["paid"] == 0
    assert _get(client, f"/v1/filings/{period.code}/blank-numbers/E0402-AB-07.xml", stranger.headers).status_code == 404


def test_blank_numbers_are_filed_after_the_period_with_every_unused_number(client, seller, monkeypatch):
    period = _current()
    _issue(client, seller, B2C_CARRIER)
    early = post_json(client, f"/v1/filings/{period.code}/blank-numbers", {}, seller.headers)
    assert early.status_code == 422
    _move_to(monkeypatch, _at(period.next().first_day + timedelta(days=1)))
    filed = post_json(client, f"/v1/filings/{period.code}/blank-numbers", {}, seller.headers)
    assert filed.status_code == 201, filed.body
    view = body_of(filed)
    # make_issuer allocates 6 booklets of 50 = 300 numbers; one was issued.
    assert view["unused_numbers"] == 299 and view["filed_at"]
    name = view["files"][0]["name"]
    link = _get(client, f"/v1/filings/{period.code}/blank-numbers/{name}", seller.headers)
    with urllib.request.urlopen(body_of(link)["url"], timeout=10) as response:  # noqa: S310
        assert b"BranchTrackBlank" in response.read()
    assert body_of(post_json(client, f"/v1/filings/{period.code}/blank-numbers", {}, seller.headers)) == view


def test_filings_need_a_merchant_and_the_right_scope(client, seller, staff_headers):
    assert _get(client, f"/v1/filings/{_current().code}", {}).status_code == 401
    assert _get(client, f"/v1/filings/{_current().code}", staff_headers).status_code == 403
    key = seller.key_headers  # invoices:read and invoices:write only
    assert _get(client, f"/v1/filings/{_current().code}", key).status_code == 403


@pytest.mark.parametrize("period", ["11411", "abc", "1141", "99999x"])
def test_a_malformed_period_is_a_400(client, seller, period):
    response = _get(client, f"/v1/filings/{period}", seller.headers)
    assert response.status_code == 400 and body_of(response)["error"]["field"] == "period"


def test_a_future_period_has_no_return(client, seller):
    response = _get(client, f"/v1/filings/{_current().next().next().code}", seller.headers)
    assert response.status_code == 422 and body_of(response)["error"]["code"] == "PERIOD_NOT_STARTED"


# --- the schedule --------------------------------------------------------------------------------


def _verified(client, new_merchant, address: str, since: Period | None = None):
    """A merchant with a verified mail address; ``since``: it registered in that period (an
    existing merchant; one registered after a period is sent no notice about it)."""
    merchant = new_merchant(email=address)
    code = last_code_sent_to(client, address)
    verified = post_json(client, "/v1/merchant/receivers/verify", {"channel": "email", "code": code}, merchant.headers)
    assert verified.status_code == 200, verified.body
    if since is not None:
        registered = datetime.combine(since.first_day, time(9), tzinfo=TAIWAN_TZ).isoformat()
        DynamoMerchants().update_profile(merchant.ubn, {"created_at": registered})
    return merchant


def test_period_jobs_run_twice_send_each_notice_once(client, staff_headers, new_merchant, local_aws, monkeypatch):
    # A period of its own (long past), so that no other test's run of the same job has finished it.
    period = Period(secrets.randbelow(90) + 10, 2 * (secrets.randbelow(6) + 1))
    address = f"owner-{secrets.token_hex(4)}@example.com"
    merchant = _verified(client, new_merchant, address, since=period)
    filed_address = f"filed-{secrets.token_hex(4)}@example.com"
    filed = _verified(client, new_merchant, filed_address, since=period)
    newcomer_address = f"newcomer-{secrets.token_hex(4)}@example.com"
    newcomer = _verified(client, new_merchant, newcomer_address)  # joined today, long after the period
    _move_to(monkeypatch, _at(period.next().first_day + timedelta(days=20)))
    assert post_json(client, f"/v1/filings/{period.code}/submit", {}, filed.headers).status_code == 201

    for job in ("close", "blank_reminder", "return_reminder", "overdue"):
        for _ in range(2):
            response = post_json(client, f"/v1/admin/jobs/{job}", {"period": period.code}, staff_headers)
            while response.status_code == 202:  # the run's time ran out: the next one goes on
                response = post_json(client, f"/v1/admin/jobs/{job}", {"period": period.code}, staff_headers)
            assert response.status_code == 200, response.body
            assert body_of(response)["done"] is True
    mails = body_of(client.http.get("/local/outbox"))["emails"]
    subjects = sorted(m["subject"] for m in mails if address in m["to"] and "驗證碼" not in m["subject"])
    assert len(subjects) == 4, subjects
    assert any(period.code in s and "ready" in s for s in subjects)
    assert any("overdue" in s for s in subjects)
    # The merchant that filed gets the close notice only: no reminders, not overdue.
    theirs = [
        m
        for m in body_of(client.http.get("/local/outbox"))["emails"]
        if filed.ubn in json.dumps(m) or "filed-" in m["to"][0]
    ]
    assert [m for m in theirs if "overdue" in m["subject"]] == []
    # Filed before the close job ran: no "ready to file" mail about a return already filed (issue 15).
    assert [m for m in theirs if "ready to file" in m["subject"]] == []
    view = body_of(_get(client, f"/v1/filings/{period.code}", merchant.headers))
    assert view["status"] == "overdue"
    # The newcomer joined today, long after this period: not due, and no notice about it (issue 15).
    assert [m for m in mails if newcomer_address in m["to"] and "驗證碼" not in m["subject"]] == []
    assert body_of(_get(client, f"/v1/filings/{period.code}", newcomer.headers))["status"] == "not_due"


def test_a_merchant_created_today_sees_no_past_period_overdue(client, seller):
    listed = body_of(_get(client, "/v1/filings?count=12", seller.headers))["periods"]
    assert len(listed) == 12
    assert listed[0]["period"] == _current().code and listed[0]["status"] == "open"
    assert [p["status"] for p in listed[1:]] == ["not_due"] * 11


def test_a_payment_above_what_is_due_is_refused_naming_the_amount(client, seller, buyer, monkeypatch):
    period = _current()
    _move_to(monkeypatch, _at(period.next().first_day + timedelta(days=3)))
    assert post_json(client, f"/v1/filings/{period.code}/submit", {}, seller.headers).status_code == 201
    nothing_due = post_json(
        client,
        f"/v1/filings/{period.code}/payment",
        {"amount": 100, "paid_on": str(period.next().first_day), "reference": "OVER-1"},
        seller.headers,
    )
    assert nothing_due.status_code == 422, nothing_due.body
    error = body_of(nothing_due)["error"]
    assert (error["code"], error["field"]) == ("PAYMENT_EXCEEDS_DUE", "amount")
    view = body_of(_get(client, f"/v1/filings/{period.code}", seller.headers))
    assert view["payment"]["paid"] == 0 and view["payment"]["payments"] == []


def test_a_payment_one_dollar_above_the_tax_due_is_refused(client, seller, buyer, monkeypatch):
    period = _current()
    _issue(client, seller, {**B2B, "buyer": {"ubn": buyer.ubn, "name": "買方"}})  # tax 66
    _move_to(monkeypatch, _at(period.next().first_day + timedelta(days=3)))
    assert post_json(client, f"/v1/filings/{period.code}/submit", {}, seller.headers).status_code == 201
    paid_on = str(period.next().first_day)
    over = post_json(
        client,
        f"/v1/filings/{period.code}/payment",
        {"amount": 67, "paid_on": paid_on, "reference": "S1"},
        seller.headers,
    )
    assert over.status_code == 422 and body_of(over)["error"]["field"] == "amount"
    exact = post_json(
        client,
        f"/v1/filings/{period.code}/payment",
        {"amount": 66, "paid_on": paid_on, "reference": "S1"},
        seller.headers,
    )
    assert exact.status_code == 201 and body_of(exact)["payment"]["status"] == "paid"


def test_a_job_for_a_period_that_has_not_ended_is_refused(client, staff_headers):
    response = post_json(client, "/v1/admin/jobs/close", {"period": _current().code}, staff_headers)
    assert response.status_code == 422 and body_of(response)["error"]["code"] == "PERIOD_NOT_ENDED"
    unknown = post_json(client, "/v1/admin/jobs/everything", {"period": "11402"}, staff_headers)
    assert unknown.status_code == 400 and body_of(unknown)["error"]["field"] == "job"


def test_the_buyers_input_follows_a_re_issue_and_a_cancellation(client, seller, buyer):
    period = _current()
    invoice = _issue(client, seller, B2C_CARRIER)  # 130 to a consumer: nobody's input
    assert body_of(_get(client, f"/v1/filings/{period.code}", buyer.headers))["fields"]["32"] == 0
    # 補打統編: re-issued to the buyer's UBN, the same 130 becomes 124 + 6 of the buyer's input.
    voided = post_json(
        client,
        f"/v1/invoices/{invoice['invoice_number']}/void",
        {
            "reason": "補打統編",
            "replacement": {"buyer": {"ubn": buyer.ubn, "name": "買方"}, "carrier": None, "print": True},
        },
        seller.headers,
    )
    assert voided.status_code == 200, voided.body
    fields = body_of(_get(client, f"/v1/filings/{period.code}", buyer.headers))["fields"]
    assert (fields["32"], fields["33"]) == (124, 6)
    cancelled = post_json(
        client, f"/v1/invoices/{invoice['invoice_number']}/cancel", {"reason": "退貨"}, seller.headers
    )
    assert cancelled.status_code == 200, cancelled.body
    fields = body_of(_get(client, f"/v1/filings/{period.code}", buyer.headers))["fields"]
    assert (fields["32"], fields["33"]) == (0, 0)
    # and the seller's own return agrees with its invoices after all of it
    report = body_of(post_json(client, f"/v1/filings/{period.code}/reconcile", {}, seller.headers))
    assert report["status"] == "agrees", report
    assert body_of(post_json(client, f"/v1/filings/{period.code}/reconcile", {}, buyer.headers))["status"] == "agrees"


def test_a_job_cut_short_resumes_from_its_cursor_and_sends_nothing_twice(client, new_merchant, monkeypatch):
    period = Period(secrets.randbelow(90) + 10, 2 * (secrets.randbelow(6) + 1))
    address = f"resume-{secrets.token_hex(4)}@example.com"
    _verified(client, new_merchant, address, since=period)
    _move_to(monkeypatch, _at(period.next().first_day + timedelta(days=20)))
    jobs = deps.period_jobs()
    jobs._page_size = 5  # many small pages, so that the run stops part-way

    def counted_someone() -> bool:  # stop after the first page that held a merchant, wherever the scan starts
        return int((jobs._filings.job("overdue", period.code) or {}).get("merchants", 0)) > 0

    first = jobs.run("overdue", period, counted_someone)
    assert first.done is False and 0 < first.merchants < 1000
    runs = 1
    while not jobs.run("overdue", period).done:
        runs += 1
    again = jobs.run("overdue", period)  # a finished job does nothing more
    assert again.done and again.merchants >= first.merchants
    mails = body_of(client.http.get("/local/outbox"))["emails"]
    assert len([m for m in mails if address in m["to"] and "overdue" in m["subject"]]) == 1


def test_an_allowance_cannot_be_back_dated_into_a_filed_period(client, seller, buyer, monkeypatch):
    period = _current()
    invoice = _issue(client, seller, {**B2B, "buyer": {"ubn": buyer.ubn, "name": "買方"}})
    later = _at(period.next().first_day + timedelta(days=2))
    _move_to(monkeypatch, later)
    assert post_json(client, f"/v1/filings/{period.code}/submit", {}, seller.headers).status_code == 201
    signing_clock = deps.clock
    monkeypatch.setattr(deps, "clock", FixedClock(later))  # the allowance is given two days into the next period
    line = {
        "original_invoice_number": invoice["invoice_number"],
        "description": "折讓",
        "quantity": "1",
        "unit_price": "100",
        "tax_type": "1",
    }
    service = deps.allowance_service()
    with pytest.raises(RuleViolation) as refused:
        service.issue(seller.ubn, {"items": [line], "allowance_date": str(period.last_day)}, actor="test")
    assert refused.value.code == "ALLOWANCE_PERIOD_FILED"
    # dated today it lands in the open period, and the filed return stays as filed
    issued = service.issue(seller.ubn, {"items": [line]}, actor="test")
    assert issued.record.period == period.next().code
    monkeypatch.setattr(deps, "clock", signing_clock)  # tokens are checked against the real time
    assert body_of(_get(client, f"/v1/filings/{period.code}", seller.headers))["changed_since_filing"] is False
