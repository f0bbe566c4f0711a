"""In Chromium: on an exchanged invoice its buyer confirmed, the buyer issues an allowance by
exchange (買方開立折讓證明單, B0101) on a phone, and the seller confirms it (B0102)."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.api.conftest import body_of, post_json
from tests.api.test_exchange_allowances import counted
from tests.api.test_invoices import make_issuer
from tests.browser.conftest import DESKTOP, PHONE, fits_a_phone, named, screenshot, sign_in


def test_the_buyer_issues_an_allowance_and_the_seller_confirms_it(new_page, client, staff_headers, new_merchant):
    seller = make_issuer(client, staff_headers, new_merchant)
    buyer = new_merchant()
    settings = {"settings": {"receiving_method": "exchange"}}
    headers = {"Content-Type": "application/json", **buyer.headers}
    assert client.http.patch("/v1/merchant", headers=headers, body=json.dumps(settings)).status_code == 200
    invoice = body_of(
        post_json(
            client,
            "/v1/invoices",
            {
                "buyer": {"ubn": buyer.ubn, "name": "買方股份有限公司"},
                "print": False,
                "prices_include_tax": False,
                "exchange": True,
                "items": [{"description": "顧問服務", "quantity": "1", "unit_price": "1000", "tax_type": "1"}],
            },
            seller.headers,
        )
    )
    exchange = f"{seller.ubn}-{invoice['invoice_number']}"
    assert post_json(client, f"/v1/exchange/{exchange}/confirm", {}, buyer.headers).status_code == 200

    phone = new_page(PHONE)
    sign_in(phone, buyer.ubn)
    phone.goto(f"/console/exchange/{exchange}")
    expect(phone.get_by_role("heading", name=re.compile(invoice["invoice_number"]))).to_be_visible()
    form = phone.get_by_role("form", name="開立折讓證明單（B0101）")
    form.get_by_label(named("折讓品名")).fill("短少一項")
    form.get_by_label(named("單價")).fill("200")
    fits_a_phone(phone)
    screenshot(phone, "exchange-allowance-issue-375")
    form.get_by_role("button", name="開立折讓證明單").click()
    expect(phone.get_by_text("折讓證明單已開立，待對方確認。")).to_be_visible()
    expect(phone.get_by_text("待對方確認", exact=True)).to_be_visible()
    expect(phone.get_by_text("AllowanceType 1")).to_be_visible()  # 買方開立
    fits_a_phone(phone)
    screenshot(phone, "exchange-allowance-pending-375")
    allowance_path = phone.url.split("?")[0].split("://", 1)[1].split("/", 1)[1]

    desk = new_page(DESKTOP)
    sign_in(desk, seller.ubn)
    desk.goto(f"/{allowance_path}")
    desk.get_by_role("button", name="確認折讓證明單").click()
    expect(desk.get_by_text("已確認折讓證明單。")).to_be_visible()
    expect(desk.get_by_text("對方已確認", exact=True)).to_be_visible()
    assert counted(seller.ubn, buyer.ubn) == (210, 200)
