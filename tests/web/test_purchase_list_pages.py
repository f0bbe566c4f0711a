"""The purchase lists in the console: the download form on the received pages (E0502/E0503, XML or
CSV) and the received allowances list, over Chalice's test client."""

from __future__ import annotations

import csv
import html
import io
import re

from lxml import etree

from chalicelib.documents.mig import parse_envelope
from chalicelib.documents.mig.schema import schema_for
from tests.api.conftest import body_of, post_json
from tests.api.test_invoices import _period
from tests.web.conftest import error_of, text_of
from tests.web.test_inbox_pages import _issue_to


def _allow(client, issuer, number: str, price: str) -> dict:
    line = {"original_invoice_number": number, "description": "顧問服務折讓", "quantity": "1", "unit_price": price}
    response = post_json(client, "/v1/allowances", {"items": [{**line, "tax_type": "1"}]}, issuer.headers)
    assert response.status_code == 201, response.body
    return body_of(response)


def _valid(xml: bytes, code: str) -> list:
    root = etree.fromstring(xml)
    assert schema_for("InvoiceEnvelope").validate(root)
    for child in root.find("{urn:GEINV:InvoiceEnvelope:4.1}InvoicePack"):
        assert schema_for(code).validate(etree.fromstring(etree.tostring(child))), str(schema_for(code).error_log)
    return list(parse_envelope(xml, code).messages)


def test_the_received_page_downloads_the_periods_lists(client, signed_in, issuer) -> None:
    browser, me = signed_in()
    period = _period().code
    kept = _issue_to(client, issuer, me.ubn, "1050")
    gone = _issue_to(client, issuer, me.ubn, "2100")
    cancelled = post_json(
        client, f"/v1/invoices/{gone['invoice_number']}/cancel", {"reason": "開立錯誤"}, issuer.headers
    )
    assert cancelled.status_code == 200, cancelled.body
    allowance = _allow(client, issuer, kept["invoice_number"], "210")

    page = text_of(browser.get("/console/received"))
    assert '<label for="list-period">' in page and 'id="list-period" name="period"' in page
    assert f'<option value="{period}" selected>' in page
    for file in ("invoices.xml", "invoices.csv", "allowances.xml", "allowances.csv"):
        assert f'name="file" value="{file}"' in page
    assert "下載 E0502 CSV" in page and "下載 E0503 XML" in page

    csv_file = browser.get(f"/console/received/lists/download?period={period}&file=invoices.csv")
    assert csv_file.status_code == 200
    assert csv_file.headers["Content-Type"].startswith("text/csv")
    assert csv_file.headers["Content-Disposition"] == (
        f'attachment; filename="purchase-invoices-{period}-{me.ubn}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(csv_file.body.decode("utf-8-sig"))))
    by_number = {r["發票號碼 / Invoice number"]: r for r in rows}
    assert set(by_number) == {kept["invoice_number"], gone["invoice_number"]}
    assert by_number[kept["invoice_number"]]["總計 / Total amount"] == str(kept["amounts"]["total_amount"])
    assert by_number[gone["invoice_number"]]["作廢原因 / Cancel reason"] == "開立錯誤"

    xml = browser.get(f"/console/received/lists/download?period={period}&file=invoices.xml")
    assert xml.status_code == 200 and "attachment" in xml.headers["Content-Disposition"]
    documents = _valid(xml.body, "E0502")
    cancelled_document = next(d for d in documents if d.main.invoice_number == gone["invoice_number"])
    assert cancelled_document.cancel is not None and cancelled_document.cancel.cancel_reason == "開立錯誤"

    (allowed,) = _valid(
        browser.get(f"/console/received/lists/download?period={period}&file=allowances.xml").body, "E0503"
    )
    assert (allowed.main.allowance_number, allowed.amount.total_amount) == (
        allowance["allowance_number"],
        allowance["sales_amount"],
    )
    allowance_rows = list(
        csv.DictReader(
            io.StringIO(
                browser.get(f"/console/received/lists/download?period={period}&file=allowances.csv").body.decode(
                    "utf-8-sig"
                )
            )
        )
    )
    assert [r["折讓單號碼 / Allowance number"] for r in allowance_rows] == [allowance["allowance_number"]]


def test_a_download_that_cannot_be_made_is_told_next_to_the_period(client, signed_in, issuer) -> None:
    browser, _ = signed_in()
    period = _period().code
    nothing = browser.get(f"/console/received/lists/download?period={period}&file=invoices.xml")
    assert nothing.status_code == 404
    assert period in error_of(nothing, "list-period")
    assert "進項發票" in text_of(nothing)  # the received page again, with the form

    odd = browser.get("/console/received/lists/download?period=11411&file=invoices.csv")
    assert odd.status_code == 422 and "雙數月" in html.unescape(error_of(odd, "list-period"))
    unknown = browser.get(f"/console/received/lists/download?period={period}&file=report.pdf")
    assert unknown.status_code == 422 and "請選擇要下載的清冊" in text_of(unknown)
    # From the allowances page, the allowances page answers.
    back = browser.get(f"/console/received/lists/download?period={period}&file=allowances.xml&from=allowances")
    assert back.status_code == 404 and "<h1>進項折讓單</h1>" in text_of(back)


def test_the_received_allowances_page_lists_only_mine(client, signed_in, issuer) -> None:
    browser, me = signed_in()
    stranger, _ = signed_in()
    invoice = _issue_to(client, issuer, me.ubn, "2100")
    allowance = _allow(client, issuer, invoice["invoice_number"], "1050")
    period = _period().code

    response = browser.get("/console/received/allowances")
    assert response.status_code == 200
    page = text_of(response)
    row = re.search(rf"<tr>\s*<td[^>]*>[^<]*</td>\s*<td[^>]*>{allowance['allowance_number']}</td>.*?</tr>", page, re.S)
    assert row, page
    assert issuer.ubn in row.group(0) and invoice["invoice_number"] in row.group(0)
    # 1,050 tax included: 1,000 before tax and 50 of tax.
    assert "1,000" in row.group(0) and ">50<" in row.group(0) and "1,050" in row.group(0)
    assert "已開立" in row.group(0)
    assert f'<option value="{period}" selected>' in page
    assert "allowances.csv" in page and 'name="from" value="allowances"' in page

    post_json(client, f"/v1/allowances/{allowance['allowance_number']}/cancel", {"reason": "錯誤"}, issuer.headers)
    assert "已作廢" in text_of(browser.get(f"/console/received/allowances?period={period}"))

    assert allowance["allowance_number"] not in text_of(stranger.get("/console/received/allowances"))
    odd = browser.get("/console/received/allowances?period=11411")
    assert odd.status_code == 422 and error_of(odd, "f-period")


def test_the_purchase_lists_speak_english(client, signed_in) -> None:
    browser, _ = signed_in()
    received = text_of(browser.get("/console/received?lang=en"))
    assert "Download E0502 XML" in received and "Purchase lists" in received and "下載" not in received
    allowances = text_of(browser.get("/console/received/allowances?lang=en"))
    assert "Received allowances" in allowances and "折讓" not in allowances
