"""The merchant's QR-code AES key is stored sealed, never in plain, and issuing still signs every
QR code with it; profiles stored before keys were sealed keep working."""

# ruff: noqa: F811 - the issuer fixture is a parameter of these tests

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from chalicelib.adapters.dynamo import dynamodb, get, key, to_item
from chalicelib.settings import get_settings
from tests.api.conftest import body_of, post_json
from tests.api.test_invoices import B2C_CARRIER, QR_KEY, Issuer, issuer  # noqa: F401 - the issuer fixture

# The fixed IV of the MOF QR specification (§6.5).
SPEC_IV = base64.b64decode("Dt8lyToo17X/XkXaQvihuA==")


def _stored_profile(ubn: str) -> dict[str, Any]:
    item = get(get_settings().merchants_table, f"MERCHANT#{ubn}", "PROFILE")
    assert item is not None
    return item


def _store_settings(ubn: str, settings: dict[str, Any]) -> None:
    dynamodb().update_item(
        TableName=get_settings().merchants_table,
        Key=key(f"MERCHANT#{ubn}", "PROFILE"),
        UpdateExpression="SET settings = :s",
        ExpressionAttributeValues=to_item({":s": settings}),
    )


def _signed_with(qr_key: str, invoice: dict[str, Any]) -> bool:
    """Whether the left QR code's verification field is the invoice number and random number under
    ``qr_key`` (AES-128-CBC with the spec's IV, Base64)."""
    verification = base64.b64decode(invoice["qr_left"][53:77])
    decryptor = Cipher(algorithms.AES(bytes.fromhex(qr_key)), modes.CBC(SPEC_IV)).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    padded = decryptor.update(verification) + decryptor.finalize()
    try:
        plain = unpadder.update(padded) + unpadder.finalize()
    except ValueError:  # another key: the padding does not even come out right
        return False
    return plain == (invoice["invoice_number"] + invoice["random_number"]).encode()


def _issue(client, merchant: Issuer) -> Any:
    return post_json(client, "/v1/invoices", B2C_CARRIER, merchant.headers)


def test_the_qr_key_is_stored_sealed_and_every_qr_code_is_still_signed_with_it(client, issuer):
    stored = _stored_profile(issuer.ubn)
    text = json.dumps(stored).upper()
    assert QR_KEY not in text
    assert "qr_aes_key" not in stored["settings"] and stored["settings"]["qr_aes_key_sealed"]
    profile = body_of(client.http.get("/v1/merchant", headers=issuer.headers))
    assert profile["settings"]["qr_aes_key_set"] is True
    issued = _issue(client, issuer)
    assert issued.status_code == 201, issued.body
    assert _signed_with(QR_KEY, body_of(issued))


def test_a_profile_stored_with_the_key_in_plain_still_issues_and_is_sealed_on_its_next_change(client, issuer):
    # How `make run` data and earlier deployments stored it.
    _store_settings(
        issuer.ubn, {"email_buyer": True, "sms_buyer": False, "low_stock_threshold": 50, "qr_aes_key": QR_KEY}
    )
    assert body_of(client.http.get("/v1/merchant", headers=issuer.headers))["settings"]["qr_aes_key_set"] is True
    legacy = _issue(client, issuer)
    assert legacy.status_code == 201, legacy.body
    assert _signed_with(QR_KEY, body_of(legacy))

    changed = client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **issuer.headers},
        body=json.dumps({"settings": {"email_buyer": False}}),
    )
    assert changed.status_code == 200
    assert body_of(changed)["settings"] == {
        "email_buyer": False,
        "sms_buyer": False,
        "low_stock_threshold": 50,
        "qr_aes_key_set": True,
        "receiving_method": "storage",
    }
    assert QR_KEY not in json.dumps(_stored_profile(issuer.ubn)).upper()
    after = _issue(client, issuer)
    assert after.status_code == 201, after.body
    assert _signed_with(QR_KEY, body_of(after))


def test_a_new_key_replaces_the_old_one(client, issuer):
    new_key = "00112233445566778899AABBCCDDEEFF"
    client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **issuer.headers},
        body=json.dumps({"settings": {"qr_aes_key": new_key.lower()}}),
    )
    assert new_key not in json.dumps(_stored_profile(issuer.ubn)).upper()
    invoice = body_of(_issue(client, issuer))
    assert _signed_with(new_key, invoice) and not _signed_with(QR_KEY, invoice)


def test_a_sealed_key_copied_into_another_merchants_profile_does_not_open(client, issuer, new_merchant):
    other = new_merchant()
    _store_settings(other.ubn, _stored_profile(issuer.ubn)["settings"])
    profile = body_of(client.http.get("/v1/merchant", headers=other.headers))
    assert profile["settings"]["qr_aes_key_set"] is False
    refused = post_json(client, "/v1/invoices", B2C_CARRIER, other.headers)
    assert refused.status_code == 422
    assert body_of(refused)["error"]["field"] == "settings.qr_aes_key"


def test_the_operator_command_seals_every_key_left_in_plain(client, issuer):
    from infra.manage import main

    legacy = {"email_buyer": True, "sms_buyer": False, "low_stock_threshold": 50, "qr_aes_key": QR_KEY}
    _store_settings(issuer.ubn, legacy)

    assert main(["seal-qr-keys"]) == 0

    stored = _stored_profile(issuer.ubn)
    assert QR_KEY not in json.dumps(stored).upper()
    assert {k: v for k, v in stored["settings"].items() if k != "qr_aes_key_sealed"} == {
        "email_buyer": True,
        "sms_buyer": False,
        "low_stock_threshold": 50,
    }
    issued = _issue(client, issuer)
    assert issued.status_code == 201, issued.body
    assert _signed_with(QR_KEY, body_of(issued))
    # Nothing left in plain: running it again changes nothing.
    assert main(["seal-qr-keys"]) == 0
    assert _stored_profile(issuer.ubn)["settings"] == stored["settings"]
