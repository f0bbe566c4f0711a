"""Text that prints on a legal document (issue 13 item 7): control, BOM and bidi characters are
refused with the field named, whichever way the text comes in; emoji and CJK are kept."""

# ruff: noqa: F811 - fixtures imported from sibling test modules are parameters of these tests

from __future__ import annotations

import json

from tests.api.conftest import body_of, post_json, random_ubn
from tests.api.test_invoices import B2C_CARRIER, issuer  # noqa: F401 - the issuer fixture
from tests.api.test_mig_intake import _post, _xml

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: RLO + "1000 cod" prints as "doc 0001"
BOM = "\ufeff"


def _error(response) -> dict:
    return body_of(response)["error"]


def _with_description(description: str) -> dict:
    return {**B2C_CARRIER, "items": [{**B2C_CARRIER["items"][0], "description": description}]}


def test_a_bidi_override_in_a_description_is_refused_and_takes_no_number(client, issuer):
    refused = post_json(client, "/v1/invoices", _with_description(f"拿鐵{RLO}1000 cod"), issuer.headers)
    assert refused.status_code == 400
    error = _error(refused)
    assert (error["code"], error["field"]) == ("INVALID_CHARACTERS", "items[0].description")
    assert "U+202E" in error["message"] and "U+202E" in error["message_zh"]

    issued = post_json(client, "/v1/invoices", B2C_CARRIER, issuer.headers)
    assert issued.status_code == 201, issued.body
    assert body_of(issued)["invoice_number"] == f"{issuer.track}{issuer.begin:08d}"


def test_every_printed_field_of_an_invoice_refuses_them(client, issuer):
    cases = [
        ({**B2C_CARRIER, "buyer": {"name": f"{BOM}消費者"}}, "buyer.name"),
        ({**B2C_CARRIER, "buyer": {"address": "臺北市\u2066中正區"}}, "buyer.address"),
        ({**B2C_CARRIER, "items": [{**B2C_CARRIER["items"][0], "unit": "杯\u200b"}]}, "items[0].unit"),
        ({**B2C_CARRIER, "items": [{**B2C_CARRIER["items"][0], "remark": "a\nb"}]}, "items[0].remark"),
        ({**B2C_CARRIER, "main_remark": "備註\u2028第二行"}, "main_remark"),
        ({**B2C_CARRIER, "order_id": "A\x85"}, "order_id"),
    ]
    for payload, field in cases:
        response = post_json(client, "/v1/invoices", payload, issuer.headers)
        assert response.status_code == 400, (field, response.body)
        assert (_error(response)["code"], _error(response)["field"]) == ("INVALID_CHARACTERS", field)


def test_emoji_and_cjk_are_kept_unchanged(client, issuer):
    description = "拿鐵☕️👨\u200d👩\u200d👧 𠀋"
    issued = post_json(client, "/v1/invoices", _with_description(description), issuer.headers)
    assert issued.status_code == 201, issued.body
    number = body_of(issued)["invoice_number"]
    assert body_of(issued)["items"][0]["description"] == description
    shown = body_of(client.http.get(f"/v1/invoices/{number}", headers=issuer.headers))
    assert shown["items"][0]["description"] == description
    xml = client.http.get(f"/v1/invoices/{number}/xml", headers=issuer.headers)
    assert xml.status_code == 200
    assert f"<Description>{description}</Description>".encode() in xml.body


def test_cancel_reason_with_a_bidi_override_is_refused(client, issuer):
    number = body_of(post_json(client, "/v1/invoices", B2C_CARRIER, issuer.headers))["invoice_number"]
    refused = post_json(client, f"/v1/invoices/{number}/cancel", {"reason": f"退貨{RLO}"}, issuer.headers)
    assert refused.status_code == 400
    assert (_error(refused)["code"], _error(refused)["field"]) == ("INVALID_CHARACTERS", "reason")
    assert body_of(client.http.get(f"/v1/invoices/{number}", headers=issuer.headers))["status"] == "issued"


def test_merchant_profile_refuses_a_bom_in_the_person_in_charge(client, new_merchant):
    merchant = new_merchant()
    response = client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **merchant.headers},
        body=json.dumps({"person_in_charge": f"{BOM}王小明", "address": "臺北市中正區重慶南路一段 2 號"}),
    )
    assert response.status_code == 400
    error = _error(response)
    assert (error["code"], error["field"]) == ("INVALID_CHARACTERS", "person_in_charge")
    assert "U+FEFF" in error["message"]
    profile = body_of(client.http.get("/v1/merchant", headers=merchant.headers))
    assert profile.get("person_in_charge") is None

    address = client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **merchant.headers},
        body=json.dumps({"address": f"臺北市{RLO}中正區"}),
    )
    assert address.status_code == 400 and _error(address)["field"] == "address"


def test_an_api_key_name_with_a_bidi_override_is_refused(client, new_merchant):
    merchant = new_merchant()
    refused = post_json(
        client, "/v1/api-keys", {"name": f"門市 POS{RLO}1", "scopes": ["invoices:read"]}, merchant.headers
    )
    assert refused.status_code == 400
    assert (_error(refused)["code"], _error(refused)["field"]) == ("INVALID_CHARACTERS", "name")
    assert body_of(client.http.get("/v1/api-keys", headers=merchant.headers))["items"] == []
    kept = post_json(client, "/v1/api-keys", {"name": "門市 POS 1 🧾", "scopes": ["invoices:read"]}, merchant.headers)
    assert kept.status_code == 201 and body_of(kept)["name"] == "門市 POS 1 🧾"


def test_staff_cannot_register_a_name_with_a_bidi_override(client, staff_headers):
    ubn = random_ubn()
    response = client.http.put(
        f"/v1/admin/tax-registry/{ubn}",
        headers={"Content-Type": "application/json", **staff_headers},
        body=json.dumps({"name": f"測試{RLO}商行", "address": "臺北市中正區", "status": "active"}),
    )
    assert response.status_code == 400
    assert (_error(response)["code"], _error(response)["field"]) == ("INVALID_CHARACTERS", "name")
    assert client.http.get(f"/v1/admin/tax-registry/{ubn}", headers=staff_headers).status_code == 404


def test_an_incoming_f0401_with_a_bidi_override_is_refused_naming_the_element(client, issuer):
    number = f"{issuer.track}{issuer.begin:08d}"
    valid = _xml(issuer.ubn, number)
    for bad, element in (
        (valid.replace("拿鐵咖啡".encode(), f"拿鐵{RLO}咖啡".encode()), "Details.ProductItem[0].Description"),
        # a character reference is the same character once parsed
        (valid.replace("消費者".encode(), "消費者&#xFEFF;".encode()), "Main.Buyer.Name"),
    ):
        refused = _post(client, issuer.key_headers, bad)
        assert refused.status_code == 400, refused.body
        error = _error(refused)
        assert error["field"] == element
        assert error["code"] == "MIG_FIELD_CHARSET"
        assert "U+202E" in error["message"] or "U+FEFF" in error["message"]
    accepted = _post(client, issuer.key_headers, valid)
    assert accepted.status_code == 201, accepted.body
