"""Issuing and finding invoices over HTTP (issue 6)."""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime

import pytest

from chalicelib.api import deps
from chalicelib.domain.period import TAIWAN_TZ, Period
from tests.api.conftest import body_of, post_json

QR_KEY = "FE05F029154F6AA67A78B338ED2F6601"

B2C_CARRIER = {
    "buyer": {"ubn": None, "name": "消費者", "email": "buyer@example.com"},
    "carrier": {"type": "3J0002", "id": "/ABC+123"},
    "donation_code": None,
    "print": False,
    "items": [{"description": "拿鐵咖啡", "quantity": "2", "unit": "杯", "unit_price": "65", "tax_type": "1"}],
    "prices_include_tax": True,
}
B2B = {
    "buyer": {"ubn": "22099131", "name": "台灣積體電路製造股份有限公司", "email": "ap@example.com"},
    "print": True,
    "items": [{"description": "顧問服務", "quantity": "1", "unit_price": "1380", "tax_type": "1"}],
    "prices_include_tax": True,
}


@dataclass
class Issuer:
    ubn: str
    headers: dict[str, str]
    api_key: str
    track: str
    begin: int

    @property
    def key_headers(self) -> dict[str, str]:
        return {"X-Api-Key": self.api_key}


def _period() -> Period:
    return Period.from_date(datetime.now(TAIWAN_TZ).date())


def make_issuer(client, staff_headers, new_merchant) -> Issuer:
    """A merchant ready to issue: QR key set, booklets on online, api and pos:till-1, an API key."""
    merchant = new_merchant()
    client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **merchant.headers},
        body=json.dumps({"settings": {"qr_aes_key": QR_KEY}}),
    )
    track = secrets.choice("ABCDEFGHJK") + secrets.choice("LMNPQRSTUV")
    begin = secrets.randbelow(1_000_000 - 10) * 50
    allocated = post_json(
        client,
        "/v1/admin/allocations",
        {
            "ubn": merchant.ubn,
            "period": _period().code,
            "invoice_type": "07",
            "track": track,
            "begin_no": f"{begin:08d}",
            "end_no": f"{begin + 6 * 50 - 1:08d}",
        },
        staff_headers,
    )
    track_id = body_of(allocated)["track_id"]
    post_json(client, f"/v1/tracks/{track_id}/activate", {}, merchant.headers)
    client.http.put(
        f"/v1/tracks/{track_id}/channels",
        headers={"Content-Type": "application/json", **merchant.headers},
        body=json.dumps(
            {
                "assignments": [
                    {"channel": "online", "booklets": 2},
                    {"channel": "api", "booklets": 2},
                    {"channel": "pos:till-1", "booklets": 1},
                ]
            }
        ),
    )
    key = post_json(
        client, "/v1/api-keys", {"name": "ERP", "scopes": ["invoices:write", "invoices:read"]}, merchant.headers
    )
    return Issuer(merchant.ubn, merchant.headers, body_of(key)["api_key"], track, begin)


@pytest.fixture
def issuer(client, staff_headers, new_merchant) -> Issuer:
    return make_issuer(client, staff_headers, new_merchant)


def _issue(client, issuer, payload, headers=None):
    return post_json(client, "/v1/invoices", payload, headers if headers is not None else issuer.headers)


def test_b2c_invoice_with_a_mobile_barcode(client, issuer):
    response = _issue(client, issuer, B2C_CARRIER)
    assert response.status_code == 201, response.body
    invoice = body_of(response)
    number = f"{issuer.track}{issuer.begin:08d}"  # the online channel's first booklet
    assert invoice["invoice_number"] == number
    assert invoice["period"] == _period().code
    assert invoice["channel"] == "online"
    # B2C: the sales amount includes the tax and no tax is shown separately (VAT Act §32)
    assert invoice["amounts"] == {
        "sales_amount": 130,
        "free_tax_sales_amount": 0,
        "zero_tax_sales_amount": 0,
        "tax_type": "1",
        "tax_rate": "0.05",
        "tax_amount": 0,
        "total_amount": 130,
    }
    assert invoice["carrier"] == {"type": "3J0002", "id": "/ABC+123"}
    assert invoice["print_mark"] is False
    assert invoice["status"] == "issued"
    assert len(invoice["random_number"]) == 4
    assert invoice["barcode"] == _period().code + number + invoice["random_number"]
    roc_date = f"{datetime.now(TAIWAN_TZ).year - 1911:03d}" + datetime.now(TAIWAN_TZ).strftime("%m%d")
    left = invoice["qr_left"]
    assert left[:10] == number and left[10:17] == roc_date and left[17:21] == invoice["random_number"]
    assert int(left[21:29], 16) == 124  # tax-exclusive sales: 130 / 1.05 = 123.8 → 124
    assert int(left[29:37], 16) == 130
    assert left[37:45] == "00000000" and left[45:53] == issuer.ubn
    assert "拿鐵咖啡:2:65" in left + invoice["qr_right"]
    assert invoice["qr_right"].startswith("**")
    assert invoice["links"]["pdf"] == f"/v1/invoices/{number}/pdf?layout=proof"
    detail = body_of(client.http.get(f"/v1/invoices/{number}", headers=issuer.headers))
    assert [h["event"] for h in detail["history"]] == ["issued"]


def test_b2b_invoice_splits_the_tax_half_up(client, issuer):
    invoice = body_of(_issue(client, issuer, B2B))
    assert invoice["amounts"]["sales_amount"] == 1314
    assert invoice["amounts"]["tax_amount"] == 66
    assert invoice["amounts"]["total_amount"] == 1380
    assert invoice["buyer"]["ubn"] == "22099131"
    assert invoice["qr_left"][37:45] == "22099131"


def test_donated_and_printed_b2c_invoices(client, issuer):
    donated = _issue(client, issuer, {**B2C_CARRIER, "carrier": None, "donation_code": "25885"})
    assert donated.status_code == 201
    assert body_of(donated)["donation_code"] == "25885"
    printed = _issue(client, issuer, {**B2C_CARRIER, "carrier": None, "print": True})
    assert printed.status_code == 201
    assert body_of(printed)["print_mark"] is True


def test_mixed_and_zero_rated_invoices(client, issuer):
    mixed = body_of(
        _issue(
            client,
            issuer,
            {
                **B2B,
                "items": [
                    {"description": "應稅品", "quantity": "1", "unit_price": "1050", "tax_type": "1"},
                    {"description": "免稅品", "quantity": "2", "unit_price": "100", "tax_type": "3"},
                ],
            },
        )
    )
    assert mixed["amounts"]["tax_type"] == "9"
    assert (mixed["amounts"]["sales_amount"], mixed["amounts"]["tax_amount"]) == (1000, 50)
    assert mixed["amounts"]["free_tax_sales_amount"] == 200
    assert mixed["amounts"]["total_amount"] == 1250
    zero = _issue(
        client,
        issuer,
        {
            **B2B,
            "customs_clearance_mark": "2",
            "zero_tax_rate_reason": "71",
            "items": [
                {"description": "外銷貨物", "quantity": "10", "unit_price": "300", "tax_type": "2"},
            ],
        },
    )
    assert zero.status_code == 201, zero.body
    assert body_of(zero)["amounts"]["zero_tax_sales_amount"] == 3000
    assert body_of(zero)["amounts"]["tax_type"] == "2"


def test_a_refused_invoice_takes_no_number(client, issuer):
    first = body_of(_issue(client, issuer, B2C_CARRIER))["invoice_number"]
    refused = _issue(client, issuer, {**B2B, "donation_code": "25885", "print": False})
    assert refused.status_code == 422
    assert body_of(refused)["error"]["code"] == "DONATION_WITH_BUYER_UBN"
    bad_field = _issue(
        client,
        issuer,
        {**B2C_CARRIER, "items": [{"description": "x", "quantity": "abc", "unit_price": "1", "tax_type": "1"}]},
    )
    assert bad_field.status_code == 400
    assert body_of(bad_field)["error"]["field"] == "items[0].quantity"
    second = body_of(_issue(client, issuer, B2C_CARRIER))["invoice_number"]
    assert int(second[2:]) == int(first[2:]) + 1


def test_api_keys_issue_on_the_api_or_a_till_channel(client, issuer):
    api = body_of(_issue(client, issuer, B2C_CARRIER, issuer.key_headers))
    assert api["channel"] == "api"
    assert api["invoice_number"] == f"{issuer.track}{issuer.begin + 100:08d}"
    till = body_of(_issue(client, issuer, {**B2C_CARRIER, "channel": "pos:till-1"}, issuer.key_headers))
    assert till["invoice_number"] == f"{issuer.track}{issuer.begin + 200:08d}"
    empty = _issue(client, issuer, {**B2C_CARRIER, "channel": "pos:till-9"}, issuer.key_headers)
    assert empty.status_code == 409
    assert body_of(empty)["error"]["code"] == "NO_NUMBERS_AVAILABLE"
    person = _issue(client, issuer, {**B2C_CARRIER, "channel": "pos:till-1"})
    assert person.status_code == 422


def test_twenty_concurrent_identical_requests_make_one_invoice(client, issuer):
    service = deps.invoicing_service()
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(20)

    def call() -> None:
        barrier.wait()
        try:
            issued = service.issue(issuer.ubn, dict(B2B), channel="online", actor="test", idempotency_key="retry-42")
            results.append(issued.record.invoice_number)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 20 and len(set(results)) == 1
    listed = body_of(client.http.get("/v1/invoices", headers=issuer.headers))["items"]
    assert [i["invoice_number"] for i in listed] == results[:1]

    replay = post_json(client, "/v1/invoices", B2B, {**issuer.headers, "Idempotency-Key": "retry-42"})
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert body_of(replay)["invoice_number"] == results[0]
    different = post_json(client, "/v1/invoices", B2C_CARRIER, {**issuer.headers, "Idempotency-Key": "retry-42"})
    assert different.status_code == 422
    assert body_of(different)["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_order_id_is_unique_per_merchant_and_replays(client, issuer):
    order = {**B2C_CARRIER, "order_id": "SO-2025-0001"}
    first = _issue(client, issuer, order, issuer.key_headers)
    again = _issue(client, issuer, order, issuer.key_headers)
    assert body_of(first)["invoice_number"] == body_of(again)["invoice_number"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    changed = _issue(
        client,
        issuer,
        {**order, "items": [{"description": "其他", "quantity": "1", "unit_price": "9", "tax_type": "1"}]},
        issuer.key_headers,
    )
    assert changed.status_code == 422
    assert body_of(changed)["error"]["code"] == "ORDER_ID_REUSED"
    found = body_of(client.http.get("/v1/invoices?order_id=SO-2025-0001", headers=issuer.headers))["items"]
    assert len(found) == 1


def test_query_filters_and_pages_newest_first(client, issuer, new_merchant):
    numbers = []
    for total in ("100", "200", "300"):
        body = {**B2B, "items": [{"description": "服務", "quantity": "1", "unit_price": total, "tax_type": "1"}]}
        numbers.append(body_of(_issue(client, issuer, body))["invoice_number"])
    numbers.append(body_of(_issue(client, issuer, B2C_CARRIER))["invoice_number"])

    every = body_of(client.http.get(f"/v1/invoices?period={_period().code}", headers=issuer.headers))["items"]
    assert [i["invoice_number"] for i in every] == list(reversed(numbers))
    b2b = body_of(client.http.get("/v1/invoices?buyer_ubn=22099131&min_total=150", headers=issuer.headers))["items"]
    assert [i["invoice_number"] for i in b2b] == [numbers[2], numbers[1]]
    carrier = body_of(client.http.get("/v1/invoices?carrier_id=%2FABC%2B123", headers=issuer.headers))["items"]
    assert [i["invoice_number"] for i in carrier] == [numbers[3]]
    assert body_of(client.http.get("/v1/invoices?status=cancelled", headers=issuer.headers))["items"] == []

    page1 = body_of(client.http.get("/v1/invoices?limit=3", headers=issuer.headers))
    assert len(page1["items"]) == 3 and page1["next_cursor"]
    page2 = body_of(client.http.get(f"/v1/invoices?limit=3&cursor={page1['next_cursor']}", headers=issuer.headers))
    assert [i["invoice_number"] for i in page2["items"]] == [numbers[0]]

    other = new_merchant()
    stolen = client.http.get(f"/v1/invoices?cursor={page1['next_cursor']}", headers=other.headers)
    assert stolen.status_code == 400
    assert body_of(stolen)["error"]["field"] == "cursor"
    bad = client.http.get("/v1/invoices?limit=501", headers=issuer.headers)
    assert bad.status_code == 400 and body_of(bad)["error"]["field"] == "limit"


def test_batch_gives_each_invoice_its_own_result(client, issuer):
    bad = {**B2B, "donation_code": "25885", "print": False}
    response = post_json(client, "/v1/invoices/batch", {"invoices": [B2C_CARRIER, bad, B2B]}, issuer.headers)
    assert response.status_code == 200
    result = body_of(response)
    assert [r["status"] for r in result["results"]] == [201, 422, 201]
    assert result["results"][1]["error"]["code"] == "DONATION_WITH_BUYER_UBN"
    first, third = (int(result["results"][i]["invoice"]["invoice_number"][2:]) for i in (0, 2))
    assert third == first + 1  # the refused one consumed no number
    assert (result["issued"], result["failed"]) == (2, 1)
    too_many = post_json(client, "/v1/invoices/batch", {"invoices": [B2C_CARRIER] * 501}, issuer.headers)
    assert too_many.status_code == 400


def test_issuing_needs_the_qr_key(client, issuer):
    # Every sign-up generates a key; one that no longer opens (root secret rotated) is as if unset.
    from tests.api.test_qr_key_at_rest import _store_settings

    _store_settings(issuer.ubn, {})
    merchant = issuer
    response = post_json(client, "/v1/invoices", B2C_CARRIER, merchant.headers)
    assert response.status_code == 422
    assert body_of(response)["error"]["field"] == "settings.qr_aes_key"


def test_another_merchant_cannot_see_my_invoices(client, issuer, new_merchant):
    number = body_of(_issue(client, issuer, B2B))["invoice_number"]
    other = new_merchant()
    assert client.http.get(f"/v1/invoices/{number}", headers=other.headers).status_code == 404
    assert body_of(client.http.get("/v1/invoices", headers=other.headers))["items"] == []
    read_only = post_json(client, "/v1/api-keys", {"name": "reader", "scopes": ["invoices:read"]}, issuer.headers)
    refused = _issue(client, issuer, B2B, {"X-Api-Key": body_of(read_only)["api_key"]})
    assert refused.status_code == 403
    assert body_of(refused)["error"]["code"] == "INSUFFICIENT_SCOPE"
