"""Cancelled, voided and allowance-carrying invoices are found by their own filters (issue 7)."""

# ruff: noqa: F811 - the issuer fixture is a parameter of these tests

from __future__ import annotations

from tests.api.conftest import body_of, post_json
from tests.api.test_invoices import B2B, issuer  # noqa: F401 - the issuer fixture


def _numbers(client, issuer, query: str) -> list[str]:
    response = client.http.get(f"/v1/invoices?{query}", headers=issuer.headers)
    assert response.status_code == 200, response.body
    return [i["invoice_number"] for i in body_of(response)["items"]]


def test_each_lifecycle_state_has_its_filter(client, issuer):
    plain, allowed, cancelled, voided = (
        body_of(post_json(client, "/v1/invoices", B2B, issuer.headers))["invoice_number"] for _ in range(4)
    )
    allowance = post_json(
        client,
        "/v1/allowances",
        {
            "prices_include_tax": False,
            "items": [
                {
                    "original_invoice_number": allowed,
                    "description": "顧問服務",
                    "quantity": "1",
                    "unit_price": "100",
                    "tax_type": "1",
                }
            ],
        },
        issuer.headers,
    )
    assert allowance.status_code == 201, allowance.body
    assert post_json(client, f"/v1/invoices/{cancelled}/cancel", {"reason": "退貨"}, issuer.headers).status_code == 200
    void = post_json(
        client,
        f"/v1/invoices/{voided}/void",
        {"reason": "補統編資料", "replacement": {"buyer": {"ubn": "22099131", "name": "台積電"}}},
        issuer.headers,
    )
    assert void.status_code == 200, void.body

    assert _numbers(client, issuer, "has_allowances=true") == [allowed]
    assert _numbers(client, issuer, "status=cancelled") == [cancelled]
    assert _numbers(client, issuer, "voided=true") == [voided]
    assert set(_numbers(client, issuer, "has_allowances=false&voided=false&status=issued")) == {plain}
    detail = body_of(client.http.get(f"/v1/invoices/{allowed}", headers=issuer.headers))
    assert detail["allowance_count"] == 1
    assert detail["allowance_remaining"] == 1380 - 105  # 100 tax-exclusive + 5 tax
