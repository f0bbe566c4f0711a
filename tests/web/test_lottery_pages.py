"""The lottery's console pages over the test client: the tax office loads, corrects and uploads a
period's winners at /staff/lottery; the merchant sees its winners at /console/lottery, downloads the
winning proof and marks it delivered (htmx swaps the row). Errors are shown under the input they
name, in the reader's language; another merchant finds nothing.

Each test has a period of its own (tests/lottery_setup.py); prizes are worked out by hand from the
prize table of 統一發票給獎辦法."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.documents.mig import Award, build_xml
from tests.lottery_setup import Shop, fresh_period, shop_in
from tests.web.conftest import Console, console_of, error_text, text_of

MEMBER = {"type": "EJ0113", "id": "member@example.com"}


@pytest.fixture
def shop(client, new_merchant) -> Shop:
    return shop_in(fresh_period(), client, new_merchant)


def _numbers(period: str, special: str, first: list[str], grand: str = "", extra: list[str] | None = None) -> dict:
    form = {"period": period, "special": special, "grand": grand or special[::-1]}
    form |= {f"first_{i}": number for i, number in enumerate(first)}
    form |= {f"extra_sixth_{i}": number for i, number in enumerate(extra or [])}
    return form


def _nobody(serial: str) -> str:
    """An 8-digit number outside any test range near ``serial`` (the ranges hold 300 numbers)."""
    return f"{(int(serial) + 500_000) % 10**8:08d}"


def _main(page: str) -> str:
    return page[page.index("<main") : page.index("</main>")]


def _table(page: str, table_id: str) -> list[list[str]]:
    """The rows of one table as text cells."""
    body = page[page.index(f'id="{table_id}"') :]
    body = body[: body.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in rows
    ]


def test_staff_load_a_periods_numbers_and_see_the_winners_per_prize(shop: Shop, staff: Console):
    member = shop.issue(buyer={"name": "會員"}, carrier=MEMBER)
    printed = shop.issue(buyer={"name": "消費者"}, print=True)
    cancelled = shop.issue(buyer={"name": "消費者"}, carrier=MEMBER)
    shop.cancel(cancelled["invoice_number"])
    serial = member["invoice_number"][2:]
    period = shop.period.code

    opened = staff.get(f"/staff/lottery?period={period}")
    assert opened.status_code == 200
    page = text_of(opened)
    assert "此期尚未載入中獎號碼" in page and 'action="/staff/lottery"' in page
    assert 'href="/staff/lottery"' in page  # the staff menu

    # 特別獎: the member invoice. 增開六獎: the printed one's ending, and the cancelled one's (which never wins).
    form = _numbers(
        period,
        serial,
        [_nobody(serial)],
        grand=_nobody(printed["invoice_number"][2:]),
        extra=[printed["invoice_number"][-3:], cancelled["invoice_number"][-3:]],
    )
    loaded = staff.post("/staff/lottery", form)
    assert loaded.status_code == 200, text_of(loaded)
    page = text_of(loaded)
    assert "找到中獎發票" in page
    assert _table(page, "by-prize")[1:] == [["特別獎", "NT$10,000,000", "1"], ["增開六獎", "NT$200", "1"]]
    assert cancelled["invoice_number"] in page and "作廢" in page  # refused, with the rule
    # Loaded: the numbers are shown and the form now corrects them.
    assert re.search(r'id="stored-numbers".*?特別獎</dt><dd>' + serial, page, re.S)
    assert 'action="/staff/lottery/replace"' in page and 'id="correction-rule"' in page

    english = staff.get(f"/staff/lottery?period={period}&lang=en")
    assert "Correct the winning numbers" in text_of(english) and "Correction rule" in text_of(english)


@pytest.mark.parametrize(
    ("change", "input_id", "zh", "en"),
    [
        ({"special": "1234"}, "f-special", "8 位數字", "8 digits"),
        ({"first_1": "12ab5678"}, "f-first_1", "8 位數字", "8 digits"),
        ({"first_0": ""}, "f-first_0", "1 至 3 組", "1 to 3"),
        ({"extra_sixth_0": "12"}, "f-extra_sixth_0", "3 位數字", "3 digits"),
    ],
)
def test_staff_see_each_wrong_number_under_its_input_in_both_languages(staff: Console, change, input_id, zh, en):
    period = fresh_period().code
    form = {**_numbers(period, "12345678", ["11112222"]), **change}
    refused = staff.post("/staff/lottery", form)
    assert refused.status_code == 422
    assert zh in error_text(text_of(refused), input_id)
    in_english = staff.post("/staff/lottery?lang=en", form)
    assert en in error_text(text_of(in_english), input_id)
    # Nothing was loaded, and what was typed is still there to correct.
    assert "此期尚未載入中獎號碼" in text_of(refused)
    assert f'value="{form["special"]}"' in text_of(refused)


def test_staff_see_a_wrong_period_under_the_period(staff: Console):
    shown = staff.get("/staff/lottery?period=11401")
    assert shown.status_code == 422
    assert "期別" in error_text(text_of(shown), "f-choose-period")
    posted = staff.post("/staff/lottery", _numbers("11313", "12345678", ["11112222"]))
    assert posted.status_code == 422
    assert error_text(text_of(posted), "f-choose-period")


def test_staff_correct_a_wrong_load_but_never_take_back_a_delivered_proof(client, shop: Shop, staff: Console):
    kept = shop.issue(buyer={"name": "會員"}, carrier=MEMBER)
    gone = shop.issue(buyer={"name": "會員"}, carrier=MEMBER)
    new = shop.issue(buyer={"name": "消費者"}, print=True)
    period = shop.period.code
    ks, gs, ns = (row["invoice_number"][2:] for row in (kept, gone, new))
    assert staff.post("/staff/lottery", _numbers(period, ks, [gs], grand=_nobody(ks))).status_code == 200
    merchant = console_of(client, shop.ubn, shop.password)
    delivered = merchant.post(f"/console/lottery/{period}/{kept['invoice_number']}/delivered", {})
    assert delivered.status_code == 303

    # Other numbers on the first-load form: refused, pointing at the correction.
    again = staff.post("/staff/lottery", _numbers(period, ks, [ns], grand=_nobody(ks)))
    assert again.status_code == 422 and "更正" in text_of(again) and 'class="error banner"' in text_of(again)
    # A correction that would withdraw the delivered special prize: refused whole, named.
    refused = staff.post("/staff/lottery/replace", _numbers(period, _nobody(ks), [ns], grand=_nobody(ns)))
    assert refused.status_code == 422
    assert kept["invoice_number"] in text_of(refused) and "已交付" in text_of(refused)
    assert re.search(r"版本</dt><dd>1<", text_of(refused))

    corrected = staff.post("/staff/lottery/replace", _numbers(period, ks, [ns], grand=_nobody(ks)))
    assert corrected.status_code == 200, text_of(corrected)
    page = text_of(corrected)
    assert "中獎號碼已更正為第 2 版" in page
    assert re.search(r"撤銷 <strong>1</strong> 張", page) and re.search(
        r"維持原狀（含已交付者）<strong>1</strong>", page
    )
    assert gone["invoice_number"] in page
    assert _table(page, "by-prize")[1:] == [["特別獎", "NT$10,000,000", "1"], ["頭獎", "NT$200,000", "1"]]

    listed = text_of(merchant.get(f"/console/lottery/{period}"))
    assert re.search(rf'id="winner-{gone["invoice_number"]}" class="winner withdrawn"', listed)
    assert re.search(rf'id="winner-{kept["invoice_number"]}" class="winner delivered"', listed)


def _award(shop: Shop, rows: list[dict[str, Any]], prizes: list[tuple[str, int]]) -> bytes:
    details = [
        {
            "inv_track": row["invoice_number"][:2],
            "invoice_number": row["invoice_number"],
            "invoice_date": dt.date.fromisoformat(row["invoice_date"]),
            "seller": {"identifier": shop.ubn, "name": "賣方"},
            "buyer_id": "0000000000",
            "total_amount": Decimal(row["amounts"]["total_amount"]),
            "carrier_type": MEMBER["type"],
            "carrier_id1": MEMBER["id"],
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
    main = {
        "head_ban": shop.ubn,
        "year_month": shop.period.code,
        "award_list_type": "1",
        "total_record_cnt": Decimal(len(rows)),
        "total_prize_amount": Decimal(sum(a for _, a in prizes)),
        "rec_award_begin": "1150206",
        "rec_award_end": "1150506",
    }
    return build_xml(Award.from_data({"main": main, "details": details})).replace(b"><", b">\n<")


def _upload(staff: Console, period: str, data: bytes | None) -> Any:
    files = {"file": ("E0504.xml", data, "application/xml")} if data is not None else {}
    return staff.post_multipart("/staff/lottery/e0504", {"period": period}, files)


def test_staff_upload_the_e0504_list_and_see_its_prize_types_and_its_errors(shop: Shop, staff: Console):
    rows = [shop.issue(buyer={"name": "會員"}, carrier=MEMBER) for _ in range(2)]
    period = shop.period.code

    missing = _upload(staff, period, None)
    assert missing.status_code == 422 and "請選擇 E0504" in error_text(text_of(missing), "f-e0504-file")
    xml = _award(shop, rows, [("6", 200), ("6", 1000)])
    mismatch = _upload(staff, period, xml)
    assert mismatch.status_code == 422
    shown = error_text(text_of(mismatch), "f-e0504-file")
    assert shown.startswith("Details.PrizeInvoice[1].PrizeType") and rows[1]["invoice_number"] in shown
    broken = _award(shop, rows, [("6", 200), ("5", 1000)]).replace(b"<PrizeAmount>", b"<PrizeAmt>", 1)
    broken = broken.replace(b"</PrizeAmount>", b"</PrizeAmt>", 1)
    schema = _upload(staff, period, broken)
    assert schema.status_code == 422 and "PrizeAmt" in error_text(text_of(schema), "f-e0504-file")

    loaded = _upload(staff, period, _award(shop, rows, [("6", 200), ("5", 1000)]))
    assert loaded.status_code == 200, text_of(loaded)
    page = text_of(loaded)
    assert "中獎清冊載入結果" in page and "E0504.xml" in page
    assert "<code>5</code>：五獎" in page and "<code>6</code>：六獎" in page
    assert _table(page, "by-prize")[1:] == [["五獎", "NT$1,000", "1"], ["六獎", "NT$200", "1"]]


def test_the_merchant_sees_its_winners_downloads_the_proof_and_marks_it_delivered(
    client, shop: Shop, staff: Console, new_merchant
):
    member = shop.issue(buyer={"name": "會員", "email": f"w-{shop.ubn}@example.com"}, carrier=MEMBER)
    printed = shop.issue(buyer={"name": "消費者"}, print=True)
    period = shop.period.code
    ms, ps = member["invoice_number"][2:], printed["invoice_number"][2:]
    assert staff.post("/staff/lottery", _numbers(period, ms, [ps], grand=_nobody(ms))).status_code == 200
    merchant = console_of(client, shop.ubn, shop.password)

    # The dashboard points at the proof still to deliver, and the menu at the page.
    dashboard = text_of(merchant.get("/console"))
    assert f'href="/console/lottery/{period}"' in dashboard and f"{period} 期：1 張中獎證明聯待列印交付" in dashboard
    assert 'href="/console/lottery"' in dashboard

    page = text_of(merchant.get(f"/console/lottery?period={period}"))
    assert _main(page) == _main(text_of(merchant.get(f"/console/lottery/{period}")))
    row = page[page.index(f'id="winner-{member["invoice_number"]}"') :].split("</tr>", 1)[0]
    assert "特別獎" in row and "NT$10,000,000" in row and "會員載具發票" in row and "待交付" in row
    assert "已寄送中獎通知信給買受人" in row
    proof = f"/console/lottery/{period}/{member['invoice_number']}/proof"
    assert f'href="{proof}?download=true"' in row and "標記已交付" in row
    other = page[page.index(f'id="winner-{printed["invoice_number"]}"') :].split("</tr>", 1)[0]
    assert "頭獎" in other and "無須交付" in other and "proof" not in other and "標記已交付" not in other

    link = merchant.get(f"{proof}?download=true")
    assert link.status_code == 302 and "winning" in link.headers["Location"].lower()

    # Marked delivered from the list: htmx gets the row back, delivered with its time.
    swapped = merchant.post(
        f"/console/lottery/{period}/{member['invoice_number']}/delivered", {}, headers={"HX-Request": "true"}
    )
    assert swapped.status_code == 200
    fragment = text_of(swapped)
    assert fragment.lstrip().startswith("<tr") or "<tr" in fragment.split("\n", 2)[1]
    assert "已交付" in fragment and "標記已交付" not in fragment and "<html" not in fragment
    assert f"{period} 期" not in text_of(merchant.get("/console"))  # nothing left to deliver

    # English, and another merchant: nothing of it.
    english = text_of(merchant.get(f"/console/lottery/{period}?lang=en"))
    assert "Special prize" in english and "Delivered" in english
    stranger = new_merchant()
    theirs = console_of(client, stranger.ubn, stranger.password)
    assert "此期沒有中獎發票" in text_of(theirs.get(f"/console/lottery/{period}"))
    assert theirs.get(proof).status_code == 404
    assert theirs.post(f"/console/lottery/{period}/{member['invoice_number']}/delivered", {}).status_code == 404
    assert theirs.post(f"/console/lottery/{period}/{printed['invoice_number']}/delivered", {}).status_code == 404


def test_the_merchant_page_refuses_a_wrong_period_under_its_input(signed_in):
    merchant, _ = signed_in()
    shown = merchant.get("/console/lottery?period=11413")
    assert shown.status_code == 422
    assert "期別" in error_text(text_of(shown), "f-period")
    assert merchant.get("/console/lottery/abc/AB12345678/proof").status_code == 400
