"""註銷重開 (void and re-issue) of an allowance in the console: from the invoice's page, the form
filled with what the allowance allows now, the refusals as field errors, and nothing for another
merchant."""

from __future__ import annotations

import html

from tests.api.conftest import body_of, post_json
from tests.api.test_invoices import B2B, Issuer, make_issuer
from tests.web.conftest import Console, console_of, text_of
from tests.web.test_english_pages import _chinese_left
from tests.web.test_invoice_pages import allow, detail, issue
from tests.web.test_issue_pages import error_under


def _one_line_invoice(client, issuer: Issuer) -> str:
    line = {"description": "顧問服務", "quantity": "3", "unit_price": "105", "tax_type": "1"}
    return issue(client, issuer, {**B2B, "items": [line]})  # NT$315 tax included


def _allowance(client, issuer: Issuer, number: str) -> str:
    line = {
        "original_invoice_number": number,
        "original_sequence_number": 1,
        "description": "顧問服務",
        "quantity": "1",
        "unit_price": "105",
        "tax_type": "1",
    }
    response = post_json(client, "/v1/allowances", {"items": [line], "prices_include_tax": True}, issuer.headers)
    assert response.status_code == 201, response.body
    return str(body_of(response)["allowance_number"])


def test_the_void_screen_corrects_the_allowance_under_its_number(client, seller: Console, issuer: Issuer) -> None:
    number = _one_line_invoice(client, issuer)
    allowance = _allowance(client, issuer, number)
    page = text_of(seller.get(f"/console/invoices/{number}"))
    link = f"/console/invoices/{number}/allowances/{allowance}/void"
    assert f'href="{link}"' in page
    form_page = html.unescape(text_of(seller.get(link)))
    assert "G0701" in form_page and "48 小時" in form_page
    # Filled with what the allowance allows now: 1 × 100 before tax.
    assert 'name="items[0].quantity"' in form_page and 'value="100"' in form_page

    blank = seller.post(link, {"reason": "", "items[0].quantity": "1", "items[0].unit_price": "210"})
    assert blank.status_code == 422 and error_under(blank, "f-reason")
    too_much = seller.post(
        link,
        {"reason": "金額開錯", "items[0].quantity": "4", "items[0].unit_price": "105", "prices_include_tax": "true"},
    )
    assert too_much.status_code == 422 and "超過原發票總計" in html.unescape(text_of(too_much))
    assert detail(client, issuer, number)["allowance_remaining"] == 210  # nothing moved

    done = seller.post(
        link,
        {"reason": "金額開錯", "items[0].quantity": "2", "items[0].unit_price": "105", "prices_include_tax": "true"},
    )
    assert done.status_code == 303, text_of(done)
    assert "折讓單已註銷並以相同號碼重新開立" in text_of(seller.get(done.headers["Location"]))
    after = detail(client, issuer, number)
    # 105 given back, 210 taken: 315 - 210 remains, still one allowance in force.
    assert (after["allowance_count"], after["allowance_remaining"]) == (1, 105)
    reissued = body_of(client.http.get(f"/v1/allowances/{allowance}", headers=issuer.headers))
    assert (reissued["total_amount"], reissued["void_count"], reissued["void_reason"]) == (210, 1, "金額開錯")


def test_the_void_screen_speaks_english(client, seller: Console, issuer: Issuer) -> None:
    number = _one_line_invoice(client, issuer)
    allowance = _allowance(client, issuer, number)
    response = seller.get(f"/console/invoices/{number}/allowances/{allowance}/void?lang=en")
    assert response.status_code == 200
    assert "Void and re-issue" in text_of(response)
    assert _chinese_left(text_of(response), {"顧問服務", B2B["buyer"]["name"]}) == []


def test_a_cancelled_allowance_shows_no_void_form(client, seller: Console, issuer: Issuer) -> None:
    number = _one_line_invoice(client, issuer)
    allowance = _allowance(client, issuer, number)
    assert (
        seller.post(f"/console/invoices/{number}/allowances/{allowance}/cancel", {"reason": "誤開"}).status_code == 303
    )
    link = f"/console/invoices/{number}/allowances/{allowance}/void"
    page = text_of(seller.get(link))
    assert "此折讓單已作廢" in page and '<form method="post"' not in page.split("</header>")[-1]
    refused = seller.post(link, {"reason": "x", "items[0].quantity": "1", "items[0].unit_price": "10"})
    assert refused.status_code == 422 and "僅已開立的折讓單可註銷重開" in html.unescape(text_of(refused))


def test_another_merchant_gets_404(client, issuer: Issuer, staff_headers, new_merchant) -> None:
    number = issue(client, issuer, B2B)
    allowance = body_of(allow(client, issuer, number))["allowance_number"]
    stranger = console_of(client, make_issuer(client, staff_headers, new_merchant).ubn)
    link = f"/console/invoices/{number}/allowances/{allowance}/void"
    assert stranger.get(link).status_code == 404
    assert stranger.post(link, {"reason": "x", "items[0].quantity": "1", "items[0].unit_price": "1"}).status_code == 404
    assert detail(client, issuer, number)["allowance_remaining"] == 1380 - 105
