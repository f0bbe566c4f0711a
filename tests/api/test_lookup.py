"""Look-ups an ERP calls before issuing (API.md "Look-ups")."""

from __future__ import annotations

import json
from urllib.parse import quote

import boto3


def _get(client, path):
    response = client.http.get(path)
    return response.status_code, json.loads(response.body)


def test_ubn_with_valid_checksum_but_unknown_to_the_registry(client):
    status, body = _get(client, "/v1/lookup/ubn/04595257")
    assert status == 200
    assert body["ubn"] == "04595257"
    assert body["valid"] is True
    assert body["registered"] is False


def test_ubn_valid_only_under_the_2023_rule_is_accepted(client):
    # 12458576: weighted digit sum 35, divisible by 5 but not by 10 (reference §4 test vectors).
    _, body = _get(client, "/v1/lookup/ubn/12458576")
    assert body["valid"] is True


def test_ubn_with_wrong_check_digit_is_invalid_not_an_error(client):
    status, body = _get(client, "/v1/lookup/ubn/04595258")
    assert status == 200
    assert body == {"ubn": "04595258", "valid": False, "registered": False, "name": None, "status": None}


def test_ubn_known_to_the_tax_registry_shows_its_name(client, local_aws):
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=local_aws.environment()["AWS_ENDPOINT_URL_DYNAMODB"],
        region_name="ap-northeast-1",
    )
    dynamodb.put_item(
        TableName="einvoice-local-merchants",
        Item={
            "pk": {"S": "REGISTRY#24634102"},
            "sk": {"S": "REGISTRY"},
            "name": {"S": "範例商行"},
            "address": {"S": "臺北市中正區"},
            "status": {"S": "active"},
        },
    )
    _, body = _get(client, "/v1/lookup/ubn/24634102")
    assert body["registered"] is True
    assert body["name"] == "範例商行"
    assert body["status"] == "active"


def test_mobile_barcode_percent_encoded_in_the_query(client):
    status, body = _get(client, f"/v1/lookup/carriers?type=3J0002&id={quote('/ABC+123', safe='')}")
    assert status == 200
    assert body["valid"] is True
    assert body["id"] == "/ABC+123"


def test_mobile_barcode_with_lowercase_is_invalid_with_a_reason(client):
    _, body = _get(client, f"/v1/lookup/carriers?type=3J0002&id={quote('/abc+123', safe='')}")
    assert body["valid"] is False
    assert body["reason"]
    assert body["reason_zh"]


def test_unencoded_plus_is_explained(client):
    # A raw '+' in a query string means a space; the reason tells the developer to encode it.
    _, body = _get(client, "/v1/lookup/carriers?type=3J0002&id=/ABC+123")
    assert body["valid"] is False
    assert "%2B" in body["reason"]


def test_citizen_certificate_carrier(client):
    _, good = _get(client, "/v1/lookup/carriers?type=CQ0001&id=AB12345678901234")
    _, bad = _get(client, "/v1/lookup/carriers?type=CQ0001&id=AB1234")
    assert good["valid"] is True
    assert bad["valid"] is False


def test_carrier_lookup_without_id_names_the_missing_field(client):
    status, body = _get(client, "/v1/lookup/carriers?type=3J0002")
    assert status == 400
    assert body["error"]["code"] == "MISSING_FIELD"
    assert body["error"]["field"] == "id"


def test_carrier_lookup_rejects_unknown_query_parameters(client):
    status, body = _get(client, "/v1/lookup/carriers?type=3J0002&id=%2FABC%2B123&typo=1")
    assert status == 400
    assert body["error"]["field"] == "typo"


def test_donation_codes(client):
    assert _get(client, "/v1/lookup/donation-codes/25885")[1] == {"code": "25885", "valid": True}
    assert _get(client, "/v1/lookup/donation-codes/12")[1]["valid"] is False
    assert _get(client, "/v1/lookup/donation-codes/12345678")[1]["valid"] is False
    assert _get(client, "/v1/lookup/donation-codes/12a45")[1]["valid"] is False
