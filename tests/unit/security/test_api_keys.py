"""API keys: format, parsing that never raises, peppered hashes, and scopes."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.errors import InvalidInput
from chalicelib.security.api_keys import (
    ApiScope,
    ParsedApiKey,
    hash_api_key_secret,
    new_api_key,
    parse_api_key,
    scopes_claim,
    validate_scopes,
    verify_api_key_secret,
)

PEPPER = b"p" * 32
KEY_PATTERN = re.compile(r"ak_([A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{43})")


def test_a_new_key_has_the_documented_shape() -> None:
    issued = new_api_key()
    match = KEY_PATTERN.fullmatch(issued.value)
    assert match is not None and match.group(1) == issued.key_id
    assert issued.secret_hash == hashlib.sha256(match.group(2).encode()).hexdigest()


def test_with_a_pepper_the_stored_value_is_an_hmac() -> None:
    issued = new_api_key(PEPPER)
    parsed = parse_api_key(issued.value)
    assert parsed is not None
    assert issued.secret_hash == hmac.new(PEPPER, parsed.secret.encode(), hashlib.sha256).hexdigest()
    assert parsed.secret not in issued.value.split(".")[0]


def test_keys_are_unique() -> None:
    keys = [new_api_key() for _ in range(200)]
    assert len({k.key_id for k in keys}) == 200 and len({k.value for k in keys}) == 200


def test_parse_and_verify_round_trip() -> None:
    issued = new_api_key(PEPPER)
    parsed = parse_api_key(issued.value)
    assert parsed == ParsedApiKey(issued.key_id, issued.value.split(".", 1)[1])
    assert verify_api_key_secret(parsed.secret, issued.secret_hash, PEPPER)


def test_verification_needs_the_same_pepper() -> None:
    issued = new_api_key(PEPPER)
    parsed = parse_api_key(issued.value)
    assert parsed is not None
    assert not verify_api_key_secret(parsed.secret, issued.secret_hash)
    assert not verify_api_key_secret(parsed.secret, issued.secret_hash, b"q" * 32)
    other_last = "B" if parsed.secret.endswith("A") else "A"
    assert not verify_api_key_secret(parsed.secret[:-1] + other_last, issued.secret_hash, PEPPER)


def test_a_corrupt_stored_hash_is_a_mismatch() -> None:
    assert not verify_api_key_secret("s" * 43, "證" * 64)
    assert not verify_api_key_secret("s" * 43, "")


def test_a_short_pepper_is_a_configuration_error() -> None:
    with pytest.raises(ValueError):
        new_api_key(b"short")
    with pytest.raises(ValueError):
        hash_api_key_secret("s", b"")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "ak_",
        "ak_abc.def",
        "ak_" + "a" * 12 + "." + "b" * 42,
        "ak_" + "a" * 13 + "." + "b" * 43,
        "AK_" + "a" * 12 + "." + "b" * 43,
        "Bearer ak_" + "a" * 12 + "." + "b" * 43,
        "ak_" + "a" * 12 + "." + "b" * 43 + "\n",
        "ak_" + "a" * 12 + ":" + "b" * 43,
        "ak_" + "ａ" * 12 + "." + "b" * 43,
        "rt_" + "a" * 16 + "." + "b" * 43,
        None,
        12,
        b"ak_" + b"a" * 12 + b"." + b"b" * 43,
    ],
)
def test_malformed_keys_parse_to_none(value: object) -> None:
    assert parse_api_key(value) is None


@given(st.one_of(st.text(), st.binary(), st.none(), st.integers(), st.lists(st.text())))
def test_parse_api_key_never_raises(value: object) -> None:
    parsed = parse_api_key(value)
    if parsed is not None:
        assert value == f"ak_{parsed.key_id}.{parsed.secret}"


@given(
    st.text(alphabet="ABCabc019_-", min_size=12, max_size=12),
    st.text(alphabet="xyzXYZ789_-", min_size=43, max_size=43),
)
def test_well_formed_keys_always_parse(key_id: str, secret: str) -> None:
    assert parse_api_key(f"ak_{key_id}.{secret}") == ParsedApiKey(key_id, secret)


@given(st.text(max_size=60), st.text(max_size=80))
def test_verify_never_raises_on_arbitrary_input(secret: str, stored: str) -> None:
    assert verify_api_key_secret(secret, stored, PEPPER) in {True, False}


# --- scopes ---------------------------------------------------------------------------------------


def test_the_documented_scopes() -> None:
    assert {s.value for s in ApiScope} == {
        "invoices:write",
        "invoices:read",
        "allowances:write",
        "allowances:read",
        "tracks:read",
        "filings:read",
        "filings:write",
        "notifications:read",
        "webhooks:read",
        "webhooks:write",
    }


def test_valid_scopes_are_parsed_and_deduplicated() -> None:
    scopes = validate_scopes(["invoices:write", "tracks:read", "invoices:write"])
    assert scopes == frozenset({ApiScope.INVOICES_WRITE, ApiScope.TRACKS_READ})
    assert scopes_claim(scopes) == "invoices:write tracks:read"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ([], "scopes"),
        ("invoices:write", "scopes"),  # a string is not a list of scopes
        (None, "scopes"),
        (["invoices:read", "invoices:delete"], "scopes[1]"),
        (["INVOICES:READ"], "scopes[0]"),
        ([["invoices:read"]], "scopes[0]"),
        ([None], "scopes[0]"),
    ],
)
def test_invalid_scopes(values: object, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_scopes(values)
    assert (caught.value.code, caught.value.field) == ("INVALID_SCOPE", field)
    assert "invoices:write" in caught.value.message and caught.value.message_zh
