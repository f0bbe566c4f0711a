"""The invoice lottery (中獎) end to end over HTTP: staff load the winning numbers or an E0504 built
from invoices issued in the test, merchants see their winners with what to do, print the winning
proof and mark it delivered; the merchant's inbox, the webhooks' events and the winner's mail follow.
Staff correct a wrong load by replacing the numbers, never taking back a delivered proof.

Each test issues in a period of its own (tests/lottery_setup.py): a period has one set of numbers.
Expectations are worked out by hand from the prize table of 統一發票給獎辦法 (domain/lottery.py)."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from decimal import Decimal

import pytest

from chalicelib.documents.mig import Award, build_xml
from chalicelib.domain.period import TAIWAN_TZ, Period
from tests.api.conftest import body_of, post_json
from tests.api.test_events import _events, _object, _process_outbox
from tests.api.test_invoice_lifecycle import _moto_mails
from tests.api.test_invoices import B2B
from tests.lottery_setup import Shop, fresh_period, shop_in
from tests.unit.documents.test_pdf import pdf_tools, text_of  # noqa: F401 - pdf_tools checks poppler is there

ITEMS = [{"description": "拿鐵咖啡", "quantity": "2", "unit": "杯", "unit_price": "65", "tax_type": "1"}]


def _period() -> Period:
    return Period.from_date(dt.datetime.now(TAIWAN_TZ).date())


def _issue(client, who: Shop, **payload) -> dict:
    return who.issue(**payload)


def _member(tag: str) -> dict:
    return {"type": "EJ0113", "id": f"{tag}@example.com"}


def _load_numbers(client, staff_headers, period: str, numbers: dict):
    return post_json(client, f"/v1/admin/lottery/{period}/numbers", numbers, staff_headers)


def _other_digit(digit: str) -> str:
    return "1" if digit != "1" else "2"


@pytest.fixture
def winners(client, staff_headers, new_merchant, local_aws):
    """A merchant with six invoices of a period of its own and winning numbers drawn from them."""
    who = shop_in(fresh_period(), client, new_merchant)
    mail = f"winner-{who.ubn}@example.com"
    member = _issue(client, who, buyer={"name": "會員", "email": mail}, carrier=_member("a"))
    printed = _issue(client, who, buyer={"name": "消費者"}, print=True)
    donated = _issue(
        client, who, buyer={"name": "消費者", "email": f"donor-{who.ubn}@example.com"}, donation_code="25885"
    )
    b2b = _issue(client, who, **{k: v for k, v in B2B.items() if k != "items"})
    cancelled = _issue(client, who, buyer={"name": "消費者"}, carrier={"type": "3J0002", "id": "/ABC+123"})
    reissued = _issue(client, who, buyer={"name": "消費者"}, carrier={"type": "3J0002", "id": "/ABC+123"})
    who.cancel(cancelled["invoice_number"])
    who.void(reissued["invoice_number"], {"carrier": _member("f")})
    invoices = {
        "member": member,
        "printed": printed,
        "donated": donated,
        "b2b": b2b,
        "cancelled": cancelled,
        "reissued": reissued,
    }
    serial = {name: invoice["invoice_number"][2:] for name, invoice in invoices.items()}
    c, f = serial["donated"], serial["reissued"]
    numbers = {
        "special": serial["member"],  # 特別獎: all 8 digits
        "grand": f"{(int(serial['member']) + 500_000) % 10**8:08d}",  # nobody's here (the range is 300)
        "first": [
            serial["printed"],  # 頭獎: all 8 digits
            _other_digit(c[0]) + c[1:],  # 二獎 for the donated one: the last 7 only
            f[:3] + _other_digit(f[3]) + f[4:],  # 五獎 for the re-issued one: the last 4 only
        ],
        "extra_sixth": [serial["b2b"][-3:], serial["cancelled"][-3:]],  # would be 增開六獎
    }
    return who, invoices, numbers, mail


def _texts(local_aws, address: str) -> list[str]:
    """The text parts of every mail sent to ``address``."""
    return [
        part.get_payload(decode=True).decode()
        for message in _moto_mails(local_aws, address)
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    ]


def _mine(report: dict, ubn: str) -> dict[str, dict]:
    return {w["invoice_number"]: w for w in report["winners"] if w["ubn"] == ubn}


def test_winning_numbers_find_the_merchants_winners_with_their_prize_and_what_to_do(
    client, staff_headers, winners, local_aws, tmp_path
):
    who, inv, numbers, mail = winners
    period = who.period.code
    response = _load_numbers(client, staff_headers, period, numbers)
    assert response.status_code == 200, response.body
    report = body_of(response)
    number = {name: invoice["invoice_number"] for name, invoice in inv.items()}
    recorded = _mine(report, who.ubn)
    assert {n: w["prize_amount"] for n, w in recorded.items()} == {
        number["member"]: "10000000",
        number["printed"]: "200000",
        number["donated"]: "40000",
        number["reissued"]: "1000",
    }
    refused = {r["invoice_number"]: r["reason"] for r in report["refused"] if r["seller_ubn"] == who.ubn}
    assert refused == {number["b2b"]: "b2b", number["cancelled"]: "cancelled"}
    assert all(r["message"] and r["message_zh"] for r in report["refused"])

    listed = body_of(client.http.get(f"/v1/lottery/{period}", headers=who.headers))
    shown = {w["invoice_number"]: w for w in listed["items"]}
    assert set(shown) == set(recorded)
    assert (shown[number["member"]]["prize"], shown[number["member"]]["duty"]) == ("special", "deliver_proof")
    assert shown[number["member"]]["status"] == "to_deliver"
    assert shown[number["member"]]["buyer_mailed"] is True
    assert (shown[number["printed"]]["prize"], shown[number["printed"]]["duty"]) == ("first", "buyer_holds_proof")
    assert shown[number["printed"]]["status"] == "nothing_to_deliver"
    # Donated: the prize goes to the charity; nothing to deliver and the buyer is not mailed.
    assert (shown[number["donated"]]["prize"], shown[number["donated"]]["duty"]) == ("second", "donated")
    assert shown[number["donated"]]["buyer_mailed"] is False
    assert "受捐贈" in shown[number["donated"]]["what_to_do_zh"]
    # Voided and re-issued onto a member carrier: it is the current version that won.
    assert (shown[number["reissued"]]["prize"], shown[number["reissued"]]["duty"]) == ("fifth", "deliver_proof")

    # Told once: the inbox, the events, the winner's mail; never the cancelled or B2B invoice.
    _process_outbox(who.ubn)
    notices = body_of(client.http.get("/v1/notifications?kind=lottery_won", headers=who.headers))["items"]
    assert sorted(n["data"]["invoice_number"] for n in notices) == sorted(recorded)
    won = [e for e in _events(who.ubn) if e["type"] == "invoice.won"]
    assert len(won) == 4
    assert any("中獎" in text for text in _texts(local_aws, mail))
    assert not any("中獎" in text for text in _texts(local_aws, f"donor-{who.ubn}@example.com"))

    # Loading the same numbers again records and tells nothing twice.
    again = body_of(_load_numbers(client, staff_headers, period, numbers))
    assert _mine(again, who.ubn) == {}
    assert again["already_recorded"] >= 4
    _process_outbox(who.ubn)
    assert len(body_of(client.http.get("/v1/notifications?kind=lottery_won", headers=who.headers))["items"]) == 4
    assert len([e for e in _events(who.ubn) if e["type"] == "invoice.won"]) == 4


def test_the_winning_proof_and_delivery(client, staff_headers, winners, new_merchant, tmp_path):
    who, inv, numbers, _ = winners
    period = who.period.code
    assert _load_numbers(client, staff_headers, period, numbers).status_code == 200
    member = inv["member"]["invoice_number"]

    proof = client.http.get(f"/v1/lottery/{period}/{member}/proof", headers=who.headers)
    assert proof.status_code == 302, proof.body
    with urllib.request.urlopen(body_of(proof)["url"], timeout=10) as response:  # noqa: S310 - local moto
        pdf = response.read()
    text = text_of(pdf, tmp_path)
    assert "中獎" in text
    assert "特別獎 NT$10,000,000" in text
    assert "電子發票證明聯" in text
    assert f"{member[:2]}-{member[2:]}" in text

    # Nothing to deliver for a printed proof: no winning proof, no delivery.
    printed = inv["printed"]["invoice_number"]
    refused = client.http.get(f"/v1/lottery/{period}/{printed}/proof", headers=who.headers)
    assert (refused.status_code, body_of(refused)["error"]["code"]) == (422, "NOTHING_TO_DELIVER")
    refused = post_json(client, f"/v1/lottery/{period}/{printed}/delivered", {}, who.headers)
    assert (refused.status_code, body_of(refused)["error"]["code"]) == (422, "NOTHING_TO_DELIVER")

    first = post_json(client, f"/v1/lottery/{period}/{member}/delivered", {}, who.headers)
    assert first.status_code == 200, first.body
    second = post_json(client, f"/v1/lottery/{period}/{member}/delivered", {}, who.headers)
    assert second.status_code == 200
    assert body_of(first)["status"] == body_of(second)["status"] == "delivered"
    assert body_of(second)["delivered_at"] == body_of(first)["delivered_at"]
    assert [h["event"] for h in body_of(second)["history"]] == ["won", "prize_delivered"]
    detail = body_of(client.http.get(f"/v1/invoices/{member}", headers=who.headers))
    assert [h["event"] for h in detail["history"]][-2:] == ["won", "prize_delivered"]

    # Another merchant sees none of it.
    other = new_merchant()
    assert body_of(client.http.get(f"/v1/lottery/{period}", headers=other.headers))["items"] == []
    for response in (
        client.http.get(f"/v1/lottery/{period}/{member}/proof", headers=other.headers),
        post_json(client, f"/v1/lottery/{period}/{member}/delivered", {}, other.headers),
    ):
        assert (response.status_code, body_of(response)["error"]["code"]) == (404, "WINNER_NOT_FOUND")


def test_only_invoices_of_the_period_take_part(client, staff_headers, winners):
    who, _, numbers, _ = winners
    other = fresh_period().code
    report = body_of(_load_numbers(client, staff_headers, other, numbers))
    assert _mine(report, who.ubn) == {}
    assert body_of(client.http.get(f"/v1/lottery/{other}", headers=who.headers))["items"] == []


def _award(who, rows: list[dict], period: str, prizes: list[tuple[str, int]] | None = None) -> bytes:
    """An E0504 listing ``rows`` (invoices as the API shows them); ``prizes`` their (PrizeType,
    PrizeAmount), NT$200 under code 6 unless given."""
    prizes = prizes or [("6", 200)] * len(rows)
    details = [
        {
            "inv_track": row["invoice_number"][:2],
            "invoice_number": row["invoice_number"],
            "invoice_date": dt.date.fromisoformat(row["invoice_date"]),
            "seller": {"identifier": who.ubn, "name": "賣方"},
            "buyer_id": "0000000000",
            "total_amount": Decimal(row["amounts"]["total_amount"]),
            "carrier_type": (row.get("carrier") or {}).get("type"),
            "carrier_id1": (row.get("carrier") or {}).get("id"),
            "random_number": row["random_number"],
            "prize_type": code,
            "prize_amount": Decimal(amount),
            "deposit_mark": "N",
            "redeem_data_type": "1",
            "prize_data_source": "1",
            "print_type": "1",
        }
        for row, (code, amount) in zip(rows, prizes, strict=True)
    ]
    award = Award.from_data(
        {
            "main": {
                "head_ban": who.ubn,
                "year_month": period,
                "award_list_type": "1",
                "total_record_cnt": Decimal(len(rows)),
                "total_prize_amount": Decimal(sum(amount for _, amount in prizes)),
                "rec_award_begin": "1150206",
                "rec_award_end": "1150506",
            },
            "details": details,
        }
    )
    return build_xml(award).replace(b"><", b">\n<")


def _post_xml(client, path: str, body: bytes, headers: dict):
    return client.http.post(path, headers={"Content-Type": "application/xml", **headers}, body=body)


def test_an_e0504_list_is_validated_then_recorded_once_and_a_cancelled_invoice_is_refused(
    client, staff_headers, new_merchant
):
    who = shop_in(fresh_period(), client, new_merchant)
    period = who.period.code
    member = _issue(client, who, buyer={"name": "會員"}, carrier=_member("e"))
    cancelled = _issue(client, who, buyer={"name": "會員"}, carrier=_member("x"))
    who.cancel(cancelled["invoice_number"])
    xml = _award(who, [member, cancelled], period)

    response = _post_xml(client, f"/v1/admin/lottery/{period}", xml, staff_headers)
    assert response.status_code == 200, response.body
    report = body_of(response)
    assert report["source"] == "e0504"
    assert [(w["invoice_number"], w["prize"], w["prize_amount"]) for w in report["winners"]] == [
        (member["invoice_number"], "sixth", "200")
    ]
    assert [(r["invoice_number"], r["reason"]) for r in report["refused"]] == [
        (cancelled["invoice_number"], "cancelled")
    ]
    again = body_of(_post_xml(client, f"/v1/admin/lottery/{period}", xml, staff_headers))
    assert (again["winners"], again["already_recorded"]) == ([], 1)
    _process_outbox(who.ubn)
    notices = body_of(client.http.get("/v1/notifications?kind=lottery_won", headers=who.headers))["items"]
    assert [n["data"]["invoice_number"] for n in notices] == [member["invoice_number"]]
    listed = body_of(client.http.get(f"/v1/lottery/{period}", headers=who.headers))["items"]
    assert [(w["invoice_number"], w["duty"], w["source"]) for w in listed] == [
        (member["invoice_number"], "deliver_proof", "e0504")
    ]

    # Schema first: the element and its line are named, nothing is recorded.
    broken = xml.replace(b"<PrizeAmount>", b"<PrizeAmt>", 1).replace(b"</PrizeAmount>", b"</PrizeAmt>", 1)
    line = broken[: broken.index(b"<PrizeAmt>")].count(b"\n") + 1
    refused = _post_xml(client, f"/v1/admin/lottery/{period}", broken, staff_headers)
    error = body_of(refused)["error"]
    assert (refused.status_code, error["code"]) == (400, "MIG_SCHEMA_FORMAT")  # as /v1/tracks/import
    assert error["field"] == "Details.PrizeInvoice.PrizeAmt"
    assert f"line {line}" in error["message"] and f"第 {line} 行" in error["message_zh"]
    mismatch = _post_xml(client, f"/v1/admin/lottery/{who.period.previous().code}", xml, staff_headers)
    assert (mismatch.status_code, body_of(mismatch)["error"]["field"]) == (400, "Main.YearMonth")


@pytest.mark.parametrize(
    ("numbers", "field"),
    [
        ({"special": "1234567", "grand": "87654321", "first": ["11112222"]}, "special"),
        ({"special": "12345678", "grand": "87654321", "first": ["11112222", "abc"]}, "first[1]"),
        ({"special": "12345678", "grand": "87654321", "first": []}, "first"),
        ({"special": "12345678", "grand": "87654321", "first": ["11112222"], "extra_sixth": ["12"]}, "extra_sixth[0]"),
        ({"special": "12345678", "grand": "87654321", "first": ["11112222"], "more": 1}, "more"),
    ],
)
def test_wrong_numbers_are_refused_naming_the_field(client, staff_headers, numbers, field):
    response = _load_numbers(client, staff_headers, _period().code, numbers)
    error = body_of(response)["error"]
    assert (response.status_code, error["field"]) == (400, field)
    assert error["message"] and error["message_zh"] and error["message"] != error["message_zh"]


def test_a_wrong_period_is_refused_and_merchants_cannot_load(client, staff_headers, new_merchant):
    numbers = {"special": "12345678", "grand": "87654321", "first": ["11112222"]}
    response = _load_numbers(client, staff_headers, "11401", numbers)
    assert (response.status_code, body_of(response)["error"]["code"]) == (400, "INVALID_PERIOD")
    merchant = new_merchant()
    assert _load_numbers(client, merchant.headers, _period().code, numbers).status_code == 403
    assert client.http.get("/v1/lottery/11401", headers=merchant.headers).status_code == 400


def test_an_e0504_whose_prize_type_disagrees_with_its_amount_is_refused_naming_the_row(
    client, staff_headers, new_merchant
):
    who = shop_in(fresh_period(), client, new_merchant)
    period = who.period.code
    rows = [_issue(client, who, buyer={"name": "會員"}, carrier=_member(tag)) for tag in "abc"]
    # Code 6 is NT$200 on the first row and NT$1,000 on the third: one code cannot be two prizes.
    xml = _award(who, rows, period, [("6", 200), ("5", 1000), ("6", 1000)])
    refused = _post_xml(client, f"/v1/admin/lottery/{period}", xml, staff_headers)
    error = body_of(refused)["error"]
    assert (refused.status_code, error["code"], error["field"]) == (
        422,
        "PRIZE_TYPE_MISMATCH",
        "Details.PrizeInvoice[2].PrizeType",
    )
    assert rows[2]["invoice_number"] in error["message"] and rows[2]["invoice_number"] in error["message_zh"]
    assert body_of(client.http.get(f"/v1/lottery/{period}", headers=who.headers))["items"] == []

    agreeing = _award(who, rows, period, [("6", 200), ("5", 1000), ("6", 200)])
    report = body_of(_post_xml(client, f"/v1/admin/lottery/{period}", agreeing, staff_headers))
    assert [(t["code"], t["prize"], t["prize_name_zh"]) for t in report["prize_types"]] == [
        ("5", "fifth", "五獎"),
        ("6", "sixth", "六獎"),
    ]
    assert [(c["prize"], c["prize_amount"], c["count"]) for c in report["by_prize"]] == [
        ("fifth", "1000", 1),
        ("sixth", "200", 2),
    ]


def test_correcting_a_wrong_load_withdraws_what_no_longer_wins_and_never_a_delivered_proof(
    client, staff_headers, new_merchant, local_aws
):
    who = shop_in(fresh_period(), client, new_merchant)
    period = who.period.code
    mail = f"second-{who.ubn}@example.com"
    kept = _issue(client, who, buyer={"name": "會員", "email": f"kept-{who.ubn}@example.com"}, carrier=_member("k"))
    gone = _issue(client, who, buyer={"name": "會員", "email": mail}, carrier=_member("g"))
    new = _issue(client, who, buyer={"name": "消費者"}, print=True)
    serial = {name: row["invoice_number"][2:] for name, row in {"kept": kept, "gone": gone, "new": new}.items()}
    nobody = f"{(int(serial['kept']) + 500_000) % 10**8:08d}"  # outside the 300-number range
    wrong = {"special": serial["kept"], "grand": nobody, "first": [serial["gone"]]}
    assert _load_numbers(client, staff_headers, period, wrong).status_code == 200
    delivered = post_json(client, f"/v1/lottery/{period}/{kept['invoice_number']}/delivered", {}, who.headers)
    assert body_of(delivered)["status"] == "delivered"

    # Other numbers through the first-load route are refused: that would add a second set of winners.
    right = {"special": serial["kept"], "grand": nobody, "first": [serial["new"]]}
    refused = _load_numbers(client, staff_headers, period, right)
    assert (refused.status_code, body_of(refused)["error"]["code"]) == (409, "WINNING_NUMBERS_DIFFER")

    # A replacement that would withdraw the delivered special prize is refused whole.
    without_kept = {"special": nobody, "grand": serial["kept"][::-1], "first": [serial["new"]]}
    response = client.http.put(
        f"/v1/admin/lottery/{period}/numbers",
        headers={"Content-Type": "application/json", **staff_headers},
        body=json.dumps(without_kept),
    )
    error = body_of(response)["error"]
    assert (response.status_code, error["code"]) == (409, "PRIZE_DELIVERED")
    assert kept["invoice_number"] in error["message"] and kept["invoice_number"] in error["message_zh"]
    stored = body_of(client.http.get(f"/v1/admin/lottery/{period}/numbers", headers=staff_headers))
    assert (stored["version"], stored["first"]) == (1, [serial["gone"]])

    # The right numbers: the delivered special prize stays delivered, the first prize moves.
    response = client.http.put(
        f"/v1/admin/lottery/{period}/numbers",
        headers={"Content-Type": "application/json", **staff_headers},
        body=json.dumps(right),
    )
    assert response.status_code == 200, response.body
    report = body_of(response)
    assert (report["replaced"], report["numbers_version"], report["kept"]) == (True, 2, 1)
    assert [w["invoice_number"] for w in report["withdrawn"]] == [gone["invoice_number"]]
    assert [w["invoice_number"] for w in report["winners"]] == [new["invoice_number"]]

    listed = {
        w["invoice_number"]: w for w in body_of(client.http.get(f"/v1/lottery/{period}", headers=who.headers))["items"]
    }
    assert listed[kept["invoice_number"]]["status"] == "delivered"
    assert listed[kept["invoice_number"]]["delivered_at"] == body_of(delivered)["delivered_at"]
    withdrawn = listed[gone["invoice_number"]]
    assert (withdrawn["status"], withdrawn["links"].get("proof")) == ("withdrawn", None)
    assert withdrawn["withdrawn_at"] and "更正" in withdrawn["what_to_do_zh"]
    assert [h["event"] for h in withdrawn["history"]] == ["won", "prize_withdrawn"]
    assert listed[new["invoice_number"]]["prize"] == "first"
    for refused in (
        client.http.get(f"/v1/lottery/{period}/{gone['invoice_number']}/proof", headers=who.headers),
        post_json(client, f"/v1/lottery/{period}/{gone['invoice_number']}/delivered", {}, who.headers),
    ):
        assert (refused.status_code, body_of(refused)["error"]["code"]) == (422, "PRIZE_WITHDRAWN")
    detail = body_of(client.http.get(f"/v1/invoices/{gone['invoice_number']}", headers=who.headers))
    assert [h["event"] for h in detail["history"]][-2:] == ["won", "prize_withdrawn"]

    # Told: the merchant's inbox and the webhooks' events; the buyer who was told of the win, of its end.
    _process_outbox(who.ubn)
    withdrawals = [e for e in _events(who.ubn) if e["type"] == "invoice.win_withdrawn"]
    assert [_object(e)["invoice_number"] for e in withdrawals] == [gone["invoice_number"]]
    notices = body_of(client.http.get("/v1/notifications?kind=lottery_won", headers=who.headers))["items"]
    assert any(gone["invoice_number"] in n["title_zh"] and "撤銷" in n["title_zh"] for n in notices)
    texts = _texts(local_aws, mail)
    assert any("中獎" in text for text in texts) and any("並未中獎" in text for text in texts)
    assert not any("並未中獎" in text for text in _texts(local_aws, f"kept-{who.ubn}@example.com"))

    numbers = body_of(client.http.get(f"/v1/admin/lottery/{period}/numbers", headers=staff_headers))
    assert (numbers["version"], numbers["first"]) == (2, [serial["new"]])
    missing = client.http.get(f"/v1/admin/lottery/{fresh_period().code}/numbers", headers=staff_headers)
    assert (missing.status_code, body_of(missing)["error"]["code"]) == (404, "NO_WINNING_NUMBERS")
