"""Received invoices (進項, issue 7): what other merchants issued to my UBN, and only that."""

# ruff: noqa: F811 - fixtures imported from sibling test modules are parameters of these tests

from __future__ import annotations

from tests.api.conftest import body_of, post_json
from tests.api.test_invoices import B2B, B2C_CARRIER, issuer  # noqa: F401 - the issuer fixture


def _to(buyer_ubn, total="1380"):
    return {
        **B2B,
        "buyer": {"ubn": buyer_ubn, "name": "買方公司"},
        "items": [{"description": "顧問服務", "quantity": "1", "unit_price": total, "tax_type": "1"}],
    }


def test_buyer_lists_reads_and_downloads_received_invoices(client, issuer, new_merchant):
    buyer = new_merchant()
    stranger = new_merchant()
    sent = [body_of(post_json(client, "/v1/invoices", _to(buyer.ubn, p), issuer.headers)) for p in ("1050", "2100")]
    post_json(client, "/v1/invoices", _to(stranger.ubn), issuer.headers)  # someone else's purchase
    post_json(client, "/v1/invoices", B2C_CARRIER, issuer.headers)  # B2C: nobody's received invoice

    listed = client.http.get("/v1/received-invoices", headers=buyer.headers)
    assert listed.status_code == 200, listed.body
    numbers = [i["invoice_number"] for i in body_of(listed)["items"]]
    assert sorted(numbers) == sorted(s["invoice_number"] for s in sent)
    assert all(i["seller"]["ubn"] == issuer.ubn for i in body_of(listed)["items"])

    page = body_of(client.http.get("/v1/received-invoices?limit=1", headers=buyer.headers))
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = body_of(
        client.http.get(f"/v1/received-invoices?limit=1&cursor={page['next_cursor']}", headers=buyer.headers)
    )
    assert {page["items"][0]["invoice_number"], rest["items"][0]["invoice_number"]} == set(numbers)
    # A cursor is bound to its owner.
    assert (
        client.http.get(f"/v1/received-invoices?cursor={page['next_cursor']}", headers=stranger.headers).status_code
        == 400
    )

    filtered = body_of(client.http.get("/v1/received-invoices?min_total=2000", headers=buyer.headers))
    assert [i["amounts"]["total_amount"] for i in filtered["items"]] == [2100]
    by_seller = body_of(client.http.get(f"/v1/received-invoices?seller_ubn={issuer.ubn}", headers=buyer.headers))
    assert len(by_seller["items"]) == 2
    nobody = body_of(client.http.get("/v1/received-invoices?seller_ubn=12345675", headers=buyer.headers))
    assert nobody["items"] == []
    assert client.http.get("/v1/received-invoices?period=11413", headers=buyer.headers).status_code == 400
    assert client.http.get("/v1/received-invoices?limit=0", headers=buyer.headers).status_code == 400

    stranger_list = body_of(client.http.get("/v1/received-invoices", headers=stranger.headers))
    assert [i["buyer"]["ubn"] for i in stranger_list["items"]] == [stranger.ubn]

    number = sent[0]["invoice_number"]
    path = f"/v1/received-invoices/{issuer.ubn}/{number}"
    detail = client.http.get(path, headers=buyer.headers)
    assert detail.status_code == 200, detail.body
    assert body_of(detail)["invoice_number"] == number
    assert not body_of(detail).get("history")
    xml = client.http.get(f"{path}/xml", headers=buyer.headers)
    assert xml.status_code == 200, xml.body
    assert number in xml.body.decode() and "<Invoice" in xml.body.decode()

    # The seller may read it here too; a third merchant finds nothing, whatever it tries.
    assert client.http.get(path, headers=issuer.headers).status_code == 200
    for target in (path, f"{path}/xml", f"/v1/received-invoices/{issuer.ubn}/AB00000000", "/v1/received-invoices/x/y"):
        response = client.http.get(target, headers=stranger.headers)
        assert response.status_code == 404, (target, response.body)
    assert client.http.get(path).status_code == 401


def test_a_seller_cannot_see_the_buyers_other_invoices(client, staff_headers, new_merchant, issuer):
    from tests.api.test_invoices import make_issuer

    other_seller = make_issuer(client, staff_headers, new_merchant)
    buyer = new_merchant()
    mine = body_of(post_json(client, "/v1/invoices", _to(buyer.ubn), issuer.headers))["invoice_number"]
    theirs = body_of(post_json(client, "/v1/invoices", _to(buyer.ubn, "2100"), other_seller.headers))["invoice_number"]

    # The buyer sees both of its purchases ...
    listed = body_of(client.http.get("/v1/received-invoices", headers=buyer.headers))["items"]
    assert sorted(i["invoice_number"] for i in listed) == sorted([mine, theirs])
    # ... but a seller sees only its own sale to that buyer, never the other seller's.
    assert client.http.get(f"/v1/received-invoices/{issuer.ubn}/{mine}", headers=issuer.headers).status_code == 200
    for path in (
        f"/v1/received-invoices/{other_seller.ubn}/{theirs}",
        f"/v1/received-invoices/{other_seller.ubn}/{theirs}/xml",
        f"/v1/invoices/{theirs}",
    ):
        assert client.http.get(path, headers=issuer.headers).status_code == 404, path
    assert body_of(client.http.get("/v1/received-invoices", headers=issuer.headers))["items"] == []
