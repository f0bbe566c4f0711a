"""Allowances (折讓, G0401) and their cancellation (作廢折讓, G0501) over HTTP."""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from chalicelib.adapters.dynamo_invoices import DynamoInvoices
from chalicelib.api.deps import allowance_service
from chalicelib.documents.mig import Allowance, parse_xml
from chalicelib.domain.errors import DomainError
from tests.api import test_invoices
from tests.api.conftest import body_of, post_json
from tests.api.test_invoices import B2B, B2C_CARRIER, _period
from tests.api.test_no_server_errors import json_values

issuer = test_invoices.issuer  # the shared fixture, registered here under its own name


def _invoice(client, who, payload=B2B) -> str:
    response = post_json(client, "/v1/invoices", payload, who.headers)
    assert response.status_code == 201, response.body
    return str(body_of(response)["invoice_number"])


def _line(number: str, price: str, **extra: Any) -> dict[str, Any]:
    return {
        "original_invoice_number": number,
        "description": "顧問服務折讓",
        "quantity": "1",
        "unit_price": price,
        "tax_type": "1",
        **extra,
    }


def _allow(client, who, *lines: dict[str, Any], headers: dict[str, str] | None = None, **extra: Any) -> Any:
    return post_json(client, "/v1/allowances", {"items": list(lines), **extra}, {**who.headers, **(headers or {})})


def _remaining(who, number: str) -> tuple[int, int]:
    raw = DynamoInvoices().get_raw(who.ubn, number) or {}
    return int(raw.get("allowance_remaining", raw["amounts"]["total_amount"])), int(raw.get("allowance_count", 0))


def _totals(who) -> dict[str, Any]:
    return DynamoInvoices().totals(who.ubn, _period().code, "07") or {}


def test_tax_inclusive_refund_is_split_and_taken_off_the_invoice(client, issuer):
    number = _invoice(client, issuer)
    response = _allow(client, issuer, _line(number, "1050"))
    assert response.status_code == 201, response.body
    allowance = body_of(response)
    assert response.headers["Location"] == f"/v1/allowances/{allowance['allowance_number']}"
    assert allowance["allowance_number"].startswith("AL" + _period().code)
    assert allowance["allowance_type"] == "2"
    # One meaning per name across the API: total_amount includes tax, as on an invoice.
    assert allowance["sales_amount"] == 1000 and allowance["tax_amount"] == 50
    assert allowance["total_amount"] == 1050
    assert "total_with_tax" not in allowance
    assert allowance["items"][0]["amount"] == "1000" and allowance["items"][0]["tax"] == 50
    assert allowance["original_invoices"] == [
        {"invoice_number": number, "invoice_date": allowance["allowance_date"], "amount": 1050}
    ]
    assert allowance["status"] == "issued"
    assert allowance["buyer"]["ubn"] == B2B["buyer"]["ubn"]
    assert _remaining(issuer, number) == (330, 1)
    detail = body_of(client.http.get(f"/v1/invoices/{number}", headers=issuer.headers))
    assert (detail["allowance_remaining"], detail["allowance_count"]) == (330, 1)
    history = detail["history"]
    assert history[-1]["event"] == "allowance"
    assert history[-1]["detail"]["allowance_number"] == allowance["allowance_number"]
    totals = _totals(issuer)
    assert (totals["allowance_count"], totals["allowance_sales"], totals["allowance_tax"]) == (1, 1000, 50)


def test_an_allowance_over_what_remains_is_refused_and_changes_nothing(client, issuer):
    number = _invoice(client, issuer)
    assert _allow(client, issuer, _line(number, "1050")).status_code == 201
    before = _totals(issuer)
    refused = _allow(client, issuer, _line(number, "331"))
    assert refused.status_code == 422, refused.body
    assert body_of(refused)["error"]["code"] == "ALLOWANCE_EXCEEDS_INVOICE"
    assert _remaining(issuer, number) == (330, 1)
    assert _totals(issuer) == before
    listed = body_of(client.http.get("/v1/allowances", headers=issuer.headers))
    assert len(listed["items"]) == 1
    # Exactly what remains is fine.
    assert _allow(client, issuer, _line(number, "330")).status_code == 201
    assert _remaining(issuer, number) == (0, 2)


def test_one_allowance_across_two_invoices_of_the_same_buyer(client, issuer):
    first, second = _invoice(client, issuer), _invoice(client, issuer)
    response = _allow(client, issuer, _line(first, "105"), _line(second, "210"))
    assert response.status_code == 201, response.body
    allowance = body_of(response)
    assert allowance["sales_amount"] == 300 and allowance["tax_amount"] == 15
    assert allowance["total_amount"] == 315
    assert sum(item["tax"] for item in allowance["items"]) == allowance["tax_amount"]
    assert [(o["invoice_number"], o["amount"]) for o in allowance["original_invoices"]] == [
        (first, 105),
        (second, 210),
    ]
    assert _remaining(issuer, first) == (1275, 1)
    assert _remaining(issuer, second) == (1170, 1)
    xml = client.http.get(f"/v1/allowances/{allowance['allowance_number']}/xml", headers=issuer.headers)
    parsed = parse_xml("G0401", xml.body)
    assert isinstance(parsed, Allowance)
    assert [d.original_invoice_number for d in parsed.details] == [first, second]


def test_invoices_of_different_buyers_cannot_share_an_allowance(client, issuer):
    first = _invoice(client, issuer)
    other = _invoice(client, issuer, {**B2B, "buyer": {**B2B["buyer"], "ubn": "04595257", "name": "另一家公司"}})
    refused = _allow(client, issuer, _line(first, "105"), _line(other, "105"))
    assert refused.status_code == 422
    assert body_of(refused)["error"]["code"] == "DIFFERENT_BUYERS"
    assert _remaining(issuer, first) == (1380, 0)


def test_cancelled_unknown_and_foreign_invoices_are_refused(client, issuer, new_merchant):
    number = _invoice(client, issuer)
    DynamoInvoices().set_fields(issuer.ubn, number, {"status": "cancelled"})
    refused = _allow(client, issuer, _line(number, "105"))
    assert refused.status_code == 422
    assert body_of(refused)["error"]["code"] == "INVOICE_NOT_ISSUED"
    unknown = _allow(client, issuer, _line(f"{issuer.track}{issuer.begin + 299:08d}", "105"))
    assert unknown.status_code == 404
    stranger = new_merchant()
    mine = _invoice(client, issuer)
    foreign = post_json(client, "/v1/allowances", {"items": [_line(mine, "105")]}, stranger.headers)
    assert foreign.status_code == 404
    assert _remaining(issuer, mine) == (1380, 0)


def test_concurrent_allowances_never_overdraw_an_invoice(client, issuer):
    number = _invoice(client, issuer)
    service = allowance_service()
    outcomes: list[str] = []
    lock = threading.Lock()

    def allow() -> None:
        try:
            service.issue(issuer.ubn, {"items": [_line(number, "300")]}, actor="test")
            outcome = "ok"
        except DomainError as error:
            outcome = error.code
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=allow) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    issued = outcomes.count("ok")
    assert 1 <= issued <= 4  # 4 x 300 fits in 1380, a fifth does not
    assert set(outcomes) <= {"ok", "ALLOWANCE_EXCEEDS_INVOICE", "ALLOWANCE_BUSY"}
    assert _remaining(issuer, number) == (1380 - 300 * issued, issued)


def test_cancel_gives_the_amount_back(client, issuer):
    number = _invoice(client, issuer)
    allowance = body_of(_allow(client, issuer, _line(number, "1050")))
    path = f"/v1/allowances/{allowance['allowance_number']}/cancel"
    cancelled = post_json(client, path, {"reason": "退貨取消"}, issuer.headers)
    assert cancelled.status_code == 200, cancelled.body
    body = body_of(cancelled)
    assert body["status"] == "cancelled" and body["cancel_reason"] == "退貨取消"
    assert [h["event"] for h in body["history"]] == ["issued", "cancelled"]
    assert _remaining(issuer, number) == (1380, 0)
    totals = _totals(issuer)
    assert (totals["allowance_count"], totals["allowance_sales"], totals["allowance_tax"]) == (0, 0, 0)
    again = post_json(client, path, {"reason": "再一次"}, issuer.headers)
    assert again.status_code == 409
    assert body_of(again)["error"]["code"] == "ALLOWANCE_ALREADY_CANCELLED"
    events = [h["event"] for h in body_of(client.http.get(f"/v1/invoices/{number}", headers=issuer.headers))["history"]]
    assert events[-2:] == ["allowance", "allowance_cancelled"]
    # The full amount can be allowed again.
    assert _allow(client, issuer, _line(number, "1380")).status_code == 201


def test_g0401_xml_parses_back(client, issuer):
    number = _invoice(client, issuer)
    allowance = body_of(_allow(client, issuer, _line(number, "1050", unit="式", original_sequence_number=1)))
    response = client.http.get(f"/v1/allowances/{allowance['allowance_number']}/xml", headers=issuer.headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    parsed = parse_xml("G0401", response.body if isinstance(response.body, bytes) else response.body.encode())
    assert isinstance(parsed, Allowance)
    assert parsed.main.allowance_number == allowance["allowance_number"]
    assert parsed.main.allowance_type == "2"
    assert parsed.main.seller.identifier == issuer.ubn
    assert parsed.main.buyer.identifier == B2B["buyer"]["ubn"]
    detail = parsed.details[0]
    assert (detail.original_invoice_number, detail.amount, detail.tax, detail.unit) == (number, 1000, 50, "式")
    assert (parsed.amount.tax_amount, parsed.amount.total_amount) == (50, 1000)


def test_merchant_chosen_numbers_dates_and_idempotency(client, issuer):
    number = _invoice(client, issuer)
    chosen = _allow(client, issuer, _line(number, "105"), allowance_number="RT-0001")
    assert chosen.status_code == 201, chosen.body
    assert body_of(chosen)["allowance_number"] == "RT-0001"
    taken = _allow(client, issuer, _line(number, "105"), allowance_number="RT-0001")
    assert taken.status_code == 409
    assert _remaining(issuer, number) == (1275, 1)
    future = _allow(client, issuer, _line(number, "105"), allowance_date="2999-01-01")
    assert future.status_code == 422
    key = {"Idempotency-Key": "refund-42"}
    first = _allow(client, issuer, _line(number, "105"), headers=key)
    again = _allow(client, issuer, _line(number, "105"), headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert body_of(first)["allowance_number"] == body_of(again)["allowance_number"]
    assert _remaining(issuer, number) == (1170, 2)
    different = _allow(client, issuer, _line(number, "210"), headers=key)
    assert different.status_code == 422
    assert body_of(different)["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_b2c_allowance_and_list_pages(client, issuer):
    number = _invoice(client, issuer, B2C_CARRIER)  # 2 x 65 = 130, tax-inclusive
    numbers = [body_of(_allow(client, issuer, _line(number, "21")))["allowance_number"] for _ in range(3)]
    first = body_of(_allow(client, issuer, _line(number, "21")))
    assert (first["sales_amount"], first["tax_amount"], first["total_amount"]) == (20, 1, 21)
    numbers.append(first["allowance_number"])
    page = body_of(client.http.get("/v1/allowances?limit=3", headers=issuer.headers))
    assert [a["allowance_number"] for a in page["items"]] == numbers[::-1][:3]  # newest first
    rest = body_of(client.http.get(f"/v1/allowances?limit=3&cursor={page['next_cursor']}", headers=issuer.headers))
    assert [a["allowance_number"] for a in rest["items"]] == numbers[:1]
    period = body_of(client.http.get(f"/v1/allowances?period={_period().code}", headers=issuer.headers))
    assert len(period["items"]) == 4
    empty = body_of(client.http.get("/v1/allowances?date_to=2000-01-01", headers=issuer.headers))
    assert empty["items"] == []
    # An invoice-list cursor is not an allowance-list cursor.
    invoices = body_of(client.http.get("/v1/invoices?limit=1", headers=issuer.headers))
    if invoices["next_cursor"]:
        wrong = client.http.get(f"/v1/allowances?cursor={invoices['next_cursor']}", headers=issuer.headers)
        assert wrong.status_code == 400


def test_another_merchants_allowances_are_invisible(client, issuer, new_merchant):
    number = _invoice(client, issuer)
    allowance = body_of(_allow(client, issuer, _line(number, "105")))["allowance_number"]
    stranger = new_merchant().headers
    assert client.http.get(f"/v1/allowances/{allowance}", headers=stranger).status_code == 404
    assert client.http.get(f"/v1/allowances/{allowance}/xml", headers=stranger).status_code == 404
    assert post_json(client, f"/v1/allowances/{allowance}/cancel", {"reason": "x"}, stranger).status_code == 404
    assert body_of(client.http.get("/v1/allowances", headers=stranger))["items"] == []
    mine = client.http.get(f"/v1/allowances/{allowance}", headers=issuer.headers)
    assert mine.status_code == 200 and body_of(mine)["history"][0]["event"] == "issued"


def test_api_keys_need_the_allowance_scopes(client, issuer):
    number = _invoice(client, issuer)
    # The fixture's API key has the invoice scopes only.
    refused = post_json(client, "/v1/allowances", {"items": [_line(number, "105")]}, issuer.key_headers)
    assert refused.status_code == 403


BAD_BODIES: list[Any] = [
    None,
    [],
    {},
    "text",
    {"items": []},
    {"items": "x"},
    {"items": [{}]},
    {"items": [None]},
    {"items": [{"original_invoice_number": "nope", "description": "a", "quantity": "1", "unit_price": "1"}]},
    {"items": [_line("ZZ00000000", "1")], "allowance_number": "../../etc"},
    {"items": [_line("ZZ00000000", "1")], "allowance_number": "X" * 17},
    {"items": [_line("ZZ00000000", "1")], "allowance_date": "not-a-date"},
    {"items": [_line("ZZ00000000", "1e400")]},
    {"items": [_line("ZZ00000000", "-5")]},
    {"items": [_line("ZZ00000000", "1", quantity="0")]},
    {"items": [_line("ZZ00000000", "1", tax_type="9")]},
    {"items": [_line("ZZ00000000", "1", original_sequence_number="one")]},
    {"items": [_line("ZZ00000000", "1")], "prices_include_tax": "yes"},
    {"items": [_line("ZZ00000000", "1")], "unknown": 1},
]


@pytest.mark.parametrize("payload", BAD_BODIES)
def test_no_body_causes_a_server_error(client, issuer, payload):
    response = client.http.post(
        "/v1/allowances", headers={"Content-Type": "application/json", **issuer.headers}, body=json.dumps(payload)
    )
    assert 400 <= response.status_code < 500, response.body
    error = body_of(response)["error"]
    assert error["code"] and error["message"] and error["message_zh"]


def test_no_path_or_cancel_body_causes_a_server_error(client, issuer):
    number = _invoice(client, issuer)
    allowance = body_of(_allow(client, issuer, _line(number, "105")))["allowance_number"]
    for path in ("/v1/allowances/%2E%2E", "/v1/allowances/" + "9" * 40, "/v1/allowances/AL1/xml"):
        assert 400 <= client.http.get(path, headers=issuer.headers).status_code < 500
    for target in ("NOPE", allowance):
        for cancel in (None, [], {}, {"reason": ""}, {"reason": "x" * 21}, {"reason": "ok", "extra": 1}):
            response = post_json(client, f"/v1/allowances/{target}/cancel", cancel, issuer.headers)
            assert 400 <= response.status_code < 500, response.body
    assert _remaining(issuer, number) == (1275, 1)


def _deliver(client, ubn: str, number: str, event: str = "allowance_issued") -> None:
    from tests.outbox_stream import deliver

    deliver(client, ubn, number, event)


def _mails_to(local_aws, address: str) -> list[Any]:
    """The allowance notices to ``address`` (the original invoice's own mail goes there too)."""
    from email.header import decode_header, make_header

    from tests.api.test_invoice_delivery import _mails_to as mails

    return [m for m in mails(local_aws, address) if "折讓" in str(make_header(decode_header(m["Subject"])))]


def _s3_object(key: str) -> bytes:
    from chalicelib.adapters.aws import client as aws_client
    from chalicelib.settings import get_settings

    return aws_client("s3").get_object(Bucket=get_settings().artifacts_bucket, Key=key)["Body"].read()


@pytest.fixture
def mailing_issuer(client, issuer):
    client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **issuer.headers},
        body=json.dumps({"settings": {"email_buyer": True}}),
    )
    return issuer


def _mailed_allowance(client, who, address: str) -> tuple[str, str]:
    number = _invoice(client, who, {**B2B, "buyer": {**B2B["buyer"], "email": address}})
    response = _allow(client, who, _line(number, "1050"))
    assert response.status_code == 201, response.body
    return number, str(body_of(response)["allowance_number"])


def test_the_outbox_stores_documents_and_mails_the_buyer_once(client, local_aws, mailing_issuer):
    from chalicelib.adapters.dynamo_allowances import DynamoAllowances

    address = "ap-allowance@example.com"
    _, number = _mailed_allowance(client, mailing_issuer, address)
    item = DynamoInvoices().outbox(mailing_issuer.ubn, number, "allowance_issued") or {}
    assert item["gsi1pk"] == "OUTBOX#PENDING" and item["subject"] == "allowance"
    assert set(item["steps"]) == {"g0401_xml", "allowance_pdf", "email"}
    # No stream runs under the test client: nothing happened yet.
    assert (DynamoAllowances().get(mailing_issuer.ubn, number) or {})["artifacts_pending"] is True

    _deliver(client, mailing_issuer.ubn, number)
    stored = DynamoAllowances().get(mailing_issuer.ubn, number) or {}
    assert stored["artifacts_pending"] is False
    assert stored["artifacts"]["g0401_xml"].startswith(f"merchants/{mailing_issuer.ubn}/allowances/")
    assert isinstance(parse_xml("G0401", _s3_object(stored["artifacts"]["g0401_xml"])), Allowance)
    pdf = _s3_object(stored["artifacts"]["allowance_pdf"])
    assert pdf.startswith(b"%PDF")
    mails = _mails_to(local_aws, address)
    assert len(mails) == 1
    attached = [p.get_payload(decode=True) for p in mails[0].walk() if p.get_content_type() == "application/pdf"]
    assert len(attached) == 1 and attached[0].startswith(b"%PDF")
    assert stored["delivery"]["email"]["status"] == "sent"
    done = DynamoInvoices().outbox(mailing_issuer.ubn, number, "allowance_issued") or {}
    assert done["status"] == "done" and "gsi1pk" not in done

    _deliver(client, mailing_issuer.ubn, number)  # a duplicate message sends nothing twice
    assert len(_mails_to(local_aws, address)) == 1


def test_an_s3_outage_leaves_the_item_pending_until_the_sweeper(client, local_aws, mailing_issuer, monkeypatch):
    from datetime import timedelta

    from chalicelib.api.outbox_events import processor
    from infra.local import free_port

    address = "ap-outage@example.com"
    invoice, number = _mailed_allowance(client, mailing_issuer, address)
    s3_endpoint = os.environ["AWS_ENDPOINT_URL_S3"]
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    with pytest.raises(Exception):  # noqa: B017 - whatever botocore raises for a refused connection
        processor().process(mailing_issuer.ubn, number, "allowance_issued")
    item = DynamoInvoices().outbox(mailing_issuer.ubn, number, "allowance_issued") or {}
    assert item["attempts"] == 1 and item["last_error"].startswith("g0401_xml: ")
    assert item["gsi1pk"] == "OUTBOX#PENDING"
    assert set(item["steps"].values()) == {"pending"}
    assert _mails_to(local_aws, address) == []  # the mail waits for its PDF
    assert _remaining(mailing_issuer, invoice) == (330, 1)  # the allowance itself is committed

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
    processor().sweep(min_age=timedelta(0))
    item = DynamoInvoices().outbox(mailing_issuer.ubn, number, "allowance_issued") or {}
    assert item["status"] == "done" and "gsi1pk" not in item
    assert len(_mails_to(local_aws, address)) == 1


def test_a_cancel_stores_the_g0501_through_the_outbox(client, local_aws, mailing_issuer):
    from email.header import decode_header, make_header

    from chalicelib.adapters.dynamo_allowances import DynamoAllowances

    address = "ap-cancel@example.com"
    _, number = _mailed_allowance(client, mailing_issuer, address)
    _deliver(client, mailing_issuer.ubn, number)
    cancelled = post_json(client, f"/v1/allowances/{number}/cancel", {"reason": "退貨"}, mailing_issuer.headers)
    assert cancelled.status_code == 200, cancelled.body
    item = DynamoInvoices().outbox(mailing_issuer.ubn, number, "allowance_cancelled") or {}
    assert set(item["steps"]) == {"g0501_xml", "allowance_pdf", "email"}
    _deliver(client, mailing_issuer.ubn, number, "allowance_cancelled")
    stored = DynamoAllowances().get(mailing_issuer.ubn, number) or {}
    assert stored["artifacts_pending"] is False
    g0501 = parse_xml("G0501", _s3_object(stored["artifacts"]["g0501_xml"]))
    assert g0501.cancel_reason == "退貨"  # type: ignore[attr-defined]
    assert stored["artifacts"]["g0401_xml"]  # the issue's documents stay listed
    mails = _mails_to(local_aws, address)
    assert len(mails) == 2 and "作廢" in str(make_header(decode_header(mails[1]["Subject"])))


def test_allowance_pdf_download_is_built_on_demand_and_only_for_its_merchant(client, issuer, new_merchant):
    import urllib.request

    number = _invoice(client, issuer)
    allowance = body_of(_allow(client, issuer, _line(number, "105")))["allowance_number"]
    link = client.http.get(f"/v1/allowances/{allowance}/pdf", headers=issuer.headers)
    assert link.status_code == 302, link.body
    assert body_of(link)["url"] == link.headers["Location"]
    with urllib.request.urlopen(link.headers["Location"], timeout=5) as response:  # noqa: S310 - moto on loopback
        assert response.read().startswith(b"%PDF")
    other = new_merchant()
    refused = client.http.get(f"/v1/allowances/{allowance}/pdf", headers=other.headers)
    assert refused.status_code == 404
    assert body_of(refused)["error"]["code"] == "ALLOWANCE_NOT_FOUND"


def test_received_invoice_pdf_is_for_its_buyer_and_seller_only(client, issuer, new_merchant):
    import urllib.request

    buyer = new_merchant()
    payload = {**B2B, "buyer": {**B2B["buyer"], "ubn": buyer.ubn}}
    number = _invoice(client, issuer, payload)
    path = f"/v1/received-invoices/{issuer.ubn}/{number}/pdf?layout=a4"
    link = client.http.get(path, headers=buyer.headers)
    assert link.status_code == 302, link.body
    assert f"merchants/{issuer.ubn}/invoices/" in link.headers["Location"]  # the seller's artifact
    with urllib.request.urlopen(link.headers["Location"], timeout=5) as response:  # noqa: S310 - moto on loopback
        assert response.read().startswith(b"%PDF")
    assert client.http.get(path, headers=issuer.headers).status_code == 302
    third = new_merchant()
    refused = client.http.get(path, headers=third.headers)
    assert refused.status_code == 404
    assert body_of(refused)["error"]["code"] == "INVOICE_NOT_FOUND"


def test_huge_or_odd_allowances_are_refused_cleanly(client, issuer):
    number = _invoice(client, issuer)
    many = [_line(number, "0.01", description="長" * 500) for _ in range(1000)]
    response = _allow(client, issuer, *many)
    assert response.status_code == 422, response.body
    assert body_of(response)["error"]["code"] == "ALLOWANCE_TOO_LARGE"
    huge = _allow(client, issuer, _line(number, "99999999999999", quantity="9999999999"))
    assert 400 <= huge.status_code < 500
    tiny = _allow(client, issuer, _line(number, "0.0000001"))
    assert tiny.status_code == 422
    assert _remaining(issuer, number) == (1380, 0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=json_values)
def test_arbitrary_json_never_causes_a_server_error(client, issuer, payload):
    response = client.http.post(
        "/v1/allowances", headers={"Content-Type": "application/json", **issuer.headers}, body=json.dumps(payload)
    )
    assert response.status_code < 500, response.body


def test_the_invoice_pdfs_show_allowances_after_the_outbox(client, local_aws, mailing_issuer, tmp_path):
    from tests.unit.documents.test_pdf import text_of

    address = "ap-invoice-pdf@example.com"
    invoice, number = _mailed_allowance(client, mailing_issuer, address)
    _deliver(client, mailing_issuer.ubn, invoice, "issued")
    record = DynamoInvoices().get(mailing_issuer.ubn, invoice)
    assert record is not None
    a4_key = record.artifacts["a4_pdf"]
    _deliver(client, mailing_issuer.ubn, number)
    text = text_of(_s3_object(a4_key), tmp_path)
    assert "已開立折讓 1 筆，折讓金額 NT$1,050（含稅），剩餘可折讓 NT$330" in text
    assert "1 allowance, NT$1,050 incl. tax; NT$330 remaining" in text
    assert "已折讓 1 筆" in text_of(_s3_object(record.artifacts["proof_pdf"]), tmp_path)

    cancelled = post_json(client, f"/v1/allowances/{number}/cancel", {"reason": "退貨"}, mailing_issuer.headers)
    assert cancelled.status_code == 200, cancelled.body
    _deliver(client, mailing_issuer.ubn, number, "allowance_cancelled")
    assert "折讓" not in text_of(_s3_object(a4_key), tmp_path)  # nothing in force any more


def test_issue_and_cancel_items_publish_key_by_key(client, local_aws, mailing_issuer):
    """The issue's item finishing after the cancel's (a late or concurrent worker) keeps the cancel's
    keys and the cancelled PDF."""
    from chalicelib.adapters.dynamo_allowances import DynamoAllowances
    from chalicelib.api.outbox_events import processor
    from chalicelib.documents.pdf.allowance import AllowanceDocument

    _, number = _mailed_allowance(client, mailing_issuer, "ap-race@example.com")
    cancelled = post_json(client, f"/v1/allowances/{number}/cancel", {"reason": "退貨"}, mailing_issuer.headers)
    assert cancelled.status_code == 200, cancelled.body
    # The cancel's item is processed first; the issue's (still pending) last.
    _deliver(client, mailing_issuer.ubn, number, "allowance_cancelled")
    rendered: list[bool] = []
    worker = processor()
    render = worker.render_allowance
    assert render is not None

    def spy(document: AllowanceDocument) -> bytes:
        rendered.append(document.cancelled)
        return render(document)

    worker.render_allowance = spy
    worker.process(mailing_issuer.ubn, number, "allowance_issued")
    assert rendered == [True]  # rendered from the allowance as it is now
    stored = DynamoAllowances().get(mailing_issuer.ubn, number) or {}
    assert {"g0401_xml", "g0501_xml", "allowance_pdf"} <= set(stored["artifacts"])
    assert {"email", "cancellation_email"} <= set(stored["delivery"])
    assert stored["artifacts_pending"] is False
