"""線上開立 (issue online) over HTTP: the form, its server preview, idempotent issuing, field errors.

Expected amounts are worked out by hand from the MOF rule (tax computed once on the total, half
up): tax-inclusive 3 x 105 = 315 → sales 315 / 1.05 = 300, tax 315 - 300 = 15.
"""

from __future__ import annotations

import html
import re
from typing import Any

from tests.api.conftest import body_of, register_business
from tests.api.test_invoices import Issuer
from tests.api.test_qr_key_at_rest import _store_settings
from tests.web.conftest import Console, console_of, text_of
from tests.web.tracks_setup import ready_to_issue

_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
_ROW = re.compile(r'<th scope="row">([^<]+)</th><td class="num">([^<]+)</td>')


def form_key(browser: Console) -> str:
    page = browser.get("/console/issue")
    assert page.status_code == 200, text_of(page)
    match = _KEY.search(text_of(page))
    assert match, "the form carries an Idempotency-Key"
    return match.group(1)


def b2c_carrier_form(key: str, **changes: str) -> dict[str, str]:
    return {
        "idempotency_key": key,
        "buyer_kind": "b2c",
        "delivery": "carrier",
        "carrier_kind": "mobile_barcode",
        "carrier.id": "/ABC+123",
        "prices_include_tax": "true",
        "items[0].description": "拿鐵咖啡",
        "items[0].quantity": "3",
        "items[0].unit_price": "105",
        "items[0].tax_type": "1",
        **changes,
    }


def b2b_form(key: str, buyer_ubn: str, **changes: str) -> dict[str, str]:
    return {
        "idempotency_key": key,
        "buyer_kind": "b2b",
        "buyer.ubn": buyer_ubn,
        "buyer.name": "買方股份有限公司",
        "print": ["0", "1"],  # type: ignore[dict-item]
        "prices_include_tax": "true",
        "items[0].description": "顧問服務",
        "items[0].quantity": "3",
        "items[0].unit_price": "105",
        "items[0].tax_type": "1",
        **changes,
    }


def totals(response: Any) -> dict[str, str]:
    return {html.unescape(name): value for name, value in _ROW.findall(text_of(response))}


def error_under(response: Any, input_id: str) -> str:
    match = re.search(rf'<p id="{re.escape(input_id)}-error" class="error" role="alert">([^<]+)</p>', text_of(response))
    assert match, f"no error under #{input_id}"
    return html.unescape(match.group(1))


def issued_number(response: Any) -> str:
    assert response.status_code == 303, text_of(response)
    match = re.fullmatch(r"/console/invoices/([A-Z]{2}[0-9]{8})\?done=issued", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def invoices_of(client, issuer: Issuer) -> list[dict[str, Any]]:
    return body_of(client.http.get("/v1/invoices", headers=issuer.headers))["items"]


# --- sign-in and language ---------------------------------------------------------------------


def test_every_issue_route_needs_a_signed_in_merchant(console: Console) -> None:
    for path in ("/console/issue", "/console/issue/buyer?buyer.ubn=22099131"):
        response = console.get(path)
        assert response.status_code == 303 and response.headers["Location"].startswith("/login?next=/console/issue")
    for path in ("/console/issue", "/console/issue/preview"):
        response = console.post(path, b2c_carrier_form("k" * 24))
        assert response.status_code == 303 and response.headers["Location"] == "/login"


def test_the_issue_form_in_english(seller: Console) -> None:
    page = text_of(seller.get("/console/issue?lang=en"))
    for label in ("Issue an invoice", "Buyer UBN", "Description", "Quantity", "Unit price", "Tax type", "Totals"):
        assert label in page
    assert "Mobile barcode" in page and "Donation code" in page and "Print the proof" in page
    assert "買受人統一編號" not in page


def test_every_input_has_a_label_bound_to_it(seller: Console) -> None:
    page = text_of(seller.get("/console/issue"))
    visible = re.findall(r'<(?:input|select)(?![^>]*type="hidden")[^>]*\sid="([^"]+)"', page)
    assert visible
    for input_id in visible:
        assert f'for="{input_id}"' in page, input_id


# --- the preview --------------------------------------------------------------------------------


def test_preview_of_a_b2b_tax_inclusive_invoice(seller: Console) -> None:
    shown = totals(seller.post("/console/issue/preview", b2b_form("k" * 24, "22099131")))
    # 3 x 105 tax-inclusive = 315; sales = 315 / 1.05 = 300; tax = 315 - 300 = 15
    assert shown["總計"] == "315" and shown["營業稅"] == "15" and shown["銷售額（未稅）"] == "300"
    assert shown["第 1 項小計"] == "315"


def test_preview_of_tax_exclusive_prices_adds_the_tax(seller: Console) -> None:
    form = b2b_form("k" * 24, "22099131", **{"prices_include_tax": "false", "items[0].unit_price": "100"})
    shown = totals(seller.post("/console/issue/preview", form))
    # 3 x 100 = 300 before tax; tax = 300 x 5% = 15; total 315
    assert (shown["銷售額（未稅）"], shown["營業稅"], shown["總計"]) == ("300", "15", "315")


def test_preview_rounds_the_tax_once_on_the_total(seller: Console) -> None:
    form = b2b_form("k" * 24, "22099131", **{"items[0].quantity": "1", "items[0].unit_price": "1380"})
    shown = totals(seller.post("/console/issue/preview", form))
    # 1380 / 1.05 = 1314.28... → 1314 (half up); tax = 1380 - 1314 = 66
    assert (shown["銷售額（未稅）"], shown["營業稅"], shown["總計"]) == ("1,314", "66", "1,380")


def test_preview_of_a_consumer_invoice_shows_the_tax_inside_the_total(seller: Console) -> None:
    shown = totals(seller.post("/console/issue/preview", b2c_carrier_form("k" * 24)))
    assert (shown["總計"], shown["營業稅（內含）"], shown["銷售額（未稅）"]) == ("315", "15", "300")


def test_preview_names_the_first_problem_and_takes_no_number(client, seller: Console, issuer: Issuer) -> None:
    bad = seller.post("/console/issue/preview", b2c_carrier_form("k" * 24, **{"carrier.id": "ABC"}))
    assert "尚無法試算" in text_of(bad) and "載具號碼" in text_of(bad) and "總計" not in totals(bad)
    for _ in range(3):
        seller.post("/console/issue/preview", b2c_carrier_form("k" * 24))
    number = issued_number(seller.post("/console/issue", b2c_carrier_form(form_key(seller))))
    assert number == f"{issuer.track}{issuer.begin:08d}", "previews took no number: the first invoice has the first one"


# --- issuing ------------------------------------------------------------------------------------


def test_issuing_a_b2c_carrier_invoice_opens_it(client, seller: Console, issuer: Issuer) -> None:
    number = issued_number(seller.post("/console/issue", b2c_carrier_form(form_key(seller))))
    page = seller.get(f"/console/invoices/{number}?done=issued")
    assert page.status_code == 200 and "發票已開立" in text_of(page) and number in text_of(page)
    invoice = body_of(client.http.get(f"/v1/invoices/{number}", headers=issuer.headers))
    assert invoice["channel"] == "online" and invoice["carrier"] == {"type": "3J0002", "id": "/ABC+123"}
    assert invoice["print_mark"] is False
    assert invoice["amounts"]["total_amount"] == 315 and invoice["amounts"]["tax_amount"] == 0
    assert invoice["history"][0]["actor"] == f"merchant:{issuer.ubn}"


def test_a_lower_case_mobile_barcode_is_taken_as_printed(client, seller: Console, issuer: Issuer) -> None:
    number = issued_number(
        seller.post("/console/issue", b2c_carrier_form(form_key(seller), **{"carrier.id": "/abc+123"}))
    )
    invoice = body_of(client.http.get(f"/v1/invoices/{number}", headers=issuer.headers))
    assert invoice["carrier"]["id"] == "/ABC+123"


def test_a_donated_and_a_printed_consumer_invoice(client, seller: Console, issuer: Issuer) -> None:
    donated = issued_number(
        seller.post("/console/issue", b2c_carrier_form(form_key(seller), delivery="donation", donation_code="8585"))
    )
    printed = issued_number(seller.post("/console/issue", b2c_carrier_form(form_key(seller), delivery="print")))
    first = body_of(client.http.get(f"/v1/invoices/{donated}", headers=issuer.headers))
    second = body_of(client.http.get(f"/v1/invoices/{printed}", headers=issuer.headers))
    assert (first["donation_code"], first["carrier"], first["print_mark"]) == ("8585", None, False)
    assert (second["donation_code"], second["carrier"], second["print_mark"]) == (None, None, True)


def test_a_member_carrier_and_a_citizen_certificate(client, seller: Console, issuer: Issuer) -> None:
    member = b2c_carrier_form(
        form_key(seller), carrier_kind="member", **{"carrier.type": "EJ0010", "carrier.id": "member-42"}
    )
    citizen = b2c_carrier_form(
        form_key(seller), carrier_kind="citizen_certificate", **{"carrier.id": "AB12345678901234"}
    )
    one = issued_number(seller.post("/console/issue", member))
    two = issued_number(seller.post("/console/issue", citizen))
    assert body_of(client.http.get(f"/v1/invoices/{one}", headers=issuer.headers))["carrier"] == {
        "type": "EJ0010",
        "id": "member-42",
    }
    assert body_of(client.http.get(f"/v1/invoices/{two}", headers=issuer.headers))["carrier"]["type"] == "CQ0001"


def test_a_double_submit_issues_one_invoice(client, seller: Console, issuer: Issuer) -> None:
    form = b2c_carrier_form(form_key(seller))
    first = issued_number(seller.post("/console/issue", form))
    again = issued_number(seller.post("/console/issue", form))  # the second click, or the form sent again
    assert again == first
    assert [i["invoice_number"] for i in invoices_of(client, issuer)] == [first]


def test_the_same_form_changed_and_sent_again_is_not_a_second_invoice_by_accident(
    client, seller: Console, issuer: Issuer
) -> None:
    key = form_key(seller)
    first = issued_number(seller.post("/console/issue", b2c_carrier_form(key)))
    changed = seller.post("/console/issue", b2c_carrier_form(key, **{"items[0].quantity": "4"}))
    assert changed.status_code == 422 and "已開立過一張發票" in text_of(changed)
    assert len(invoices_of(client, issuer)) == 1
    fresh = _KEY.search(text_of(changed))
    assert fresh and fresh.group(1) != key, "the page gets a new key: sending it now is a deliberate second invoice"
    second = issued_number(
        seller.post("/console/issue", b2c_carrier_form(fresh.group(1), **{"items[0].quantity": "4"}))
    )
    assert second != first and len(invoices_of(client, issuer)) == 2


def test_a_form_without_its_key_issues_nothing(client, seller: Console, issuer: Issuer) -> None:
    response = seller.post("/console/issue", b2c_carrier_form("not a key"))
    assert response.status_code == 422 and "表單已過期" in text_of(response)
    assert invoices_of(client, issuer) == []


# --- errors next to the field they name ----------------------------------------------------------


def test_a_bad_quantity_is_shown_under_that_rows_quantity(client, seller: Console, issuer: Issuer) -> None:
    response = seller.post("/console/issue", b2c_carrier_form(form_key(seller), **{"items[0].quantity": "abc"}))
    assert response.status_code == 422
    assert "數量" in error_under(response, "f-items-0-quantity")
    assert 'aria-invalid="true"' in text_of(response)
    assert 'value="abc"' in text_of(response), "what was typed stays"
    assert invoices_of(client, issuer) == []


def test_an_error_on_the_second_typed_row_lands_on_that_row(seller: Console) -> None:
    form = b2c_carrier_form(
        form_key(seller),
        **{
            "items[1].description": "",
            "items[1].quantity": "",
            "items[1].unit_price": "",  # a blank row in between is left out of the invoice
            "items[2].description": "蛋糕",
            "items[2].quantity": "0",
            "items[2].unit_price": "80",
            "items[2].tax_type": "1",
        },
    )
    response = seller.post("/console/issue", form)
    assert response.status_code == 422
    assert error_under(response, "f-items-2-quantity")
    assert 'id="f-items-1-quantity-error"' not in text_of(response)


def test_a_bad_buyer_ubn_and_a_bad_carrier_are_shown_under_them(seller: Console) -> None:
    bad_ubn = seller.post("/console/issue", b2b_form(form_key(seller), "12345678"))
    assert bad_ubn.status_code == 422 and error_under(bad_ubn, "f-buyer-ubn")
    bad_carrier = seller.post("/console/issue", b2c_carrier_form(form_key(seller), **{"carrier.id": "/AB"}))
    assert bad_carrier.status_code == 422 and "手機條碼" in error_under(bad_carrier, "f-carrier-id")
    bad_code = seller.post(
        "/console/issue", b2c_carrier_form(form_key(seller), delivery="donation", donation_code="12")
    )
    assert bad_code.status_code == 422 and "捐贈碼" in error_under(bad_code, "f-donation_code")


def test_no_item_at_all_is_said_at_the_items(seller: Console) -> None:
    form = b2c_carrier_form(
        form_key(seller), **{"items[0].description": "", "items[0].quantity": "", "items[0].unit_price": ""}
    )
    response = seller.post("/console/issue", form)
    assert response.status_code == 422 and 'id="items-error"' in text_of(response)


def test_errors_are_in_english_on_the_english_page(seller: Console) -> None:
    seller.get("/console/issue?lang=en")
    response = seller.post("/console/issue", b2c_carrier_form(form_key(seller), **{"carrier.id": "/AB"}))
    assert "A mobile barcode is" in html.unescape(error_under(response, "f-carrier-id"))


def test_a_merchant_not_set_up_is_told_what_to_set(client, new_merchant) -> None:
    merchant = new_merchant()  # no track
    # Its generated QR key gone, as when it no longer opens after the root secret was rotated.
    _store_settings(merchant.ubn, {})
    browser = console_of(client, merchant.ubn)
    page = text_of(browser.get("/console/issue"))
    assert "QR Code 加密金鑰" in page and 'href="/console/settings"' in page
    refused = browser.post("/console/issue", b2c_carrier_form(form_key(browser)))
    assert refused.status_code == 422 and 'href="/console/settings"' in text_of(refused)


# --- rows and the buyer look-up ------------------------------------------------------------------


def test_rows_are_added_and_removed_without_javascript(seller: Console) -> None:
    key = form_key(seller)
    added = seller.post("/console/issue", b2c_carrier_form(key, row_action="add"))
    assert added.status_code == 200
    page = text_of(added)
    assert 'name="items[1].description"' in page and 'value="拿鐵咖啡"' in page
    assert re.search(r'id="f-items-1-description"[^>]*autofocus', page), "the new row gets the focus"
    assert f'value="{key}"' in page, "the same form, the same key"
    removed = seller.post(
        "/console/issue",
        b2c_carrier_form(key, row_action="remove:0", **{"items[1].description": "蛋糕", "items[1].quantity": "1"}),
    )
    page = text_of(removed)
    assert 'value="蛋糕"' in page and 'value="拿鐵咖啡"' not in page and 'name="items[1].description"' not in page


def test_htmx_row_changes_answer_the_rows_and_the_totals(seller: Console) -> None:
    response = seller.post(
        "/console/issue", b2c_carrier_form("k" * 24, row_action="add"), headers={"HX-Request": "true"}
    )
    page = text_of(response)
    assert page.lstrip().startswith('<fieldset id="items"') and "<html" not in page
    assert 'id="preview"' in page and 'hx-swap-oob="true"' in page and "315" in page


def test_the_buyer_ubn_fills_the_registered_name(client, seller: Console, staff_headers) -> None:
    from tests.api.conftest import random_ubn

    buyer = random_ubn()
    name = register_business(client, staff_headers, buyer)
    filled = text_of(seller.get(f"/console/issue/buyer?buyer.ubn={buyer}&buyer.name="))
    assert f'value="{html.escape(name)}"' in filled and 'name="buyer_name_source" value="registry"' in filled
    typed = text_of(seller.get(f"/console/issue/buyer?buyer.ubn={buyer}&buyer.name=%E6%88%91%E7%9A%84"))
    assert 'value="我的"' in typed, "a name the merchant typed is kept"
    wrong = text_of(seller.get("/console/issue/buyer?buyer.ubn=12345678&buyer.name="))
    assert "檢查碼不正確" in wrong


def test_a_registered_buyer_without_a_name_is_filled_in_for_review(
    client, seller: Console, staff_headers, issuer
) -> None:
    from tests.api.conftest import random_ubn

    buyer = random_ubn()
    name = register_business(client, staff_headers, buyer)
    response = seller.post("/console/issue", b2b_form(form_key(seller), buyer, **{"buyer.name": ""}))
    assert response.status_code == 422 and "已依稅籍資料帶入" in error_under(response, "f-buyer-name")
    assert f'value="{html.escape(name)}"' in text_of(response)
    assert invoices_of(client, issuer) == [], "nothing is issued until the merchant has seen the name"


def test_a_merchant_without_numbers_on_the_online_channel_is_sent_to_the_tracks(client, new_merchant) -> None:
    merchant = new_merchant()
    ready_to_issue(client, merchant.headers)
    browser = console_of(client, merchant.ubn)
    refused = browser.post("/console/issue", b2c_carrier_form(form_key(browser)))
    assert refused.status_code == 422 and "無可用發票號碼" in text_of(refused)
    assert 'href="/console/tracks"' in text_of(refused)


def test_a_business_invoice_may_keep_the_buyers_mobile_barcode(client, seller: Console, issuer: Issuer) -> None:
    bad = seller.post("/console/issue", b2b_form(form_key(seller), "22099131", b2b_barcode="/AB"))
    assert bad.status_code == 422 and "手機條碼" in error_under(bad, "f-b2b_barcode")
    number = issued_number(
        seller.post("/console/issue", b2b_form(form_key(seller), "22099131", b2b_barcode="/abc+123"))
    )
    invoice = body_of(client.http.get(f"/v1/invoices/{number}", headers=issuer.headers))
    assert invoice["carrier"] == {"type": "3J0002", "id": "/ABC+123"} and invoice["buyer"]["ubn"] == "22099131"
    void_page = text_of(seller.get(f"/console/invoices/{number}/void"))
    assert 'name="b2b_barcode" type="text" value="/ABC+123"' in void_page, "a re-issue starts from the barcode kept"
