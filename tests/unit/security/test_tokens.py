"""Access tokens (pinned HS256 JWTs) and opaque refresh tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.security.tokens import (
    AccessClaims,
    Role,
    TokenInvalid,
    hash_secret,
    issue_access_token,
    new_refresh_token,
    parse_refresh_token,
    verify_access_token,
    verify_refresh_secret,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
NOW = datetime(2025, 11, 20, 9, 0, tzinfo=UTC)
FIFTEEN_MINUTES = timedelta(minutes=15)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _claims(**overrides: Any) -> dict[str, Any]:
    issued = int(NOW.timestamp())
    claims: dict[str, Any] = {
        "iss": "einvoice",
        "sub": "24634102",
        "role": "merchant",
        "typ": "access",
        "jti": "abc",
        "sid": "s1",
        "iat": issued,
        "exp": issued + 900,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _code(token: str, key: bytes = KEY, now: datetime = NOW) -> str:
    with pytest.raises(TokenInvalid) as caught:
        verify_access_token(token, key, now)
    assert caught.value.message and caught.value.message_zh
    return caught.value.code


def test_issue_and_verify_round_trip() -> None:
    token, expires_in = issue_access_token(
        subject="24634102",
        role=Role.MERCHANT,
        key=KEY,
        now=NOW,
        session_id="s1",
        scopes=["invoices:write", "invoices:read"],
    )
    assert expires_in == 900
    claims = verify_access_token(token, KEY, NOW + timedelta(minutes=1))
    assert claims == AccessClaims(
        subject="24634102",
        role=Role.MERCHANT,
        scopes=frozenset({"invoices:write", "invoices:read"}),
        token_id=claims.token_id,
        issued_at=NOW,
        expires_at=NOW + FIFTEEN_MINUTES,
        session_id="s1",
    )


def test_the_token_carries_the_pinned_header_and_claims() -> None:
    token, _ = issue_access_token(subject="staff", role=Role.STAFF, key=KEY, now=NOW, session_id="s1")
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    payload = jwt.decode(token, KEY, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False})
    assert payload["iss"] == "einvoice" and payload["typ"] == "access" and payload["role"] == "staff"
    assert payload["exp"] - payload["iat"] == 900 and "scopes" not in payload
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,}", payload["jti"])


def test_each_token_has_its_own_id() -> None:
    first, _ = issue_access_token(subject="24634102", role=Role.MERCHANT, key=KEY, now=NOW, session_id="s1")
    second, _ = issue_access_token(subject="24634102", role=Role.MERCHANT, key=KEY, now=NOW, session_id="s1")
    assert verify_access_token(first, KEY, NOW).token_id != verify_access_token(second, KEY, NOW).token_id


def test_a_custom_ttl() -> None:
    token, expires_in = issue_access_token(
        subject="x", role=Role.STAFF, key=KEY, now=NOW, session_id="s1", ttl=timedelta(minutes=5)
    )
    assert expires_in == 300
    assert verify_access_token(token, KEY, NOW).expires_at == NOW + timedelta(minutes=5)


def test_expiry_is_exclusive_and_reported_as_expired() -> None:
    token, _ = issue_access_token(subject="24634102", role=Role.MERCHANT, key=KEY, now=NOW, session_id="s1")
    verify_access_token(token, KEY, NOW + FIFTEEN_MINUTES - timedelta(seconds=1))
    assert _code(token, now=NOW + FIFTEEN_MINUTES) == "TOKEN_EXPIRED"


def test_an_expired_forgery_is_invalid_not_expired() -> None:
    # "expired" would confirm the signature was fine; a forger must learn nothing.
    token = jwt.encode(_claims(), OTHER_KEY, algorithm="HS256")
    assert _code(token, now=NOW + timedelta(days=1)) == "INVALID_TOKEN"


def test_a_token_from_the_future_is_invalid() -> None:
    token, _ = issue_access_token(
        subject="24634102", role=Role.MERCHANT, key=KEY, now=NOW + timedelta(minutes=2), session_id="s1"
    )
    assert _code(token) == "INVALID_TOKEN"
    verify_access_token(token, KEY, NOW + timedelta(minutes=1, seconds=40))  # small clock skew tolerated


def test_an_alg_none_token_is_refused() -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims()).encode())
    assert _code(f"{header}.{payload}.") == "INVALID_TOKEN"
    assert _code(jwt.encode(_claims(), None, algorithm="none")) == "INVALID_TOKEN"  # type: ignore[arg-type]


def test_a_token_signed_with_another_key_is_refused() -> None:
    token, _ = issue_access_token(subject="24634102", role=Role.MERCHANT, key=OTHER_KEY, now=NOW, session_id="s1")
    assert _code(token) == "INVALID_TOKEN"


def test_another_hmac_algorithm_with_the_right_key_is_refused() -> None:
    assert _code(jwt.encode(_claims(), KEY * 2, algorithm="HS512"), key=KEY * 2) == "INVALID_TOKEN"


@pytest.mark.parametrize(
    "claims",
    [
        _claims(iss="someone-else"),
        _claims(iss=None),
        _claims(typ="refresh"),
        _claims(typ=None),
        _claims(jti=None),
        _claims(sub=None),
        _claims(sub=""),
        _claims(sub=24634102),
        _claims(exp=None),
        _claims(iat=None),
        _claims(role="admin"),
        _claims(role=None),
        _claims(role=["merchant"]),
        _claims(scopes="invoices:write"),
        _claims(scopes=[1]),
        _claims(exp=True),
        _claims(exp="2030-01-01"),
        _claims(exp=10**30),
        _claims(iat=int(NOW.timestamp()) + 900),  # exp not after iat
    ],
)
def test_well_signed_tokens_with_bad_claims_are_invalid(claims: dict[str, Any]) -> None:
    assert _code(jwt.encode(claims, KEY, algorithm="HS256")) == "INVALID_TOKEN"


def test_a_correctly_signed_token_that_expires_in_a_year_is_refused() -> None:
    # Signed with the platform's own key: only the lifetime it claims is wrong.
    year_long = _claims(exp=int((NOW + timedelta(days=365)).timestamp()))
    token = jwt.encode(year_long, KEY, algorithm="HS256")
    assert _code(token, now=NOW + timedelta(minutes=1)) == "INVALID_TOKEN"


def test_a_correctly_signed_token_living_longer_than_fifteen_minutes_is_refused() -> None:
    issued = int(NOW.timestamp())
    assert _code(jwt.encode(_claims(exp=issued + 16 * 60), KEY, algorithm="HS256")) == "INVALID_TOKEN"
    # Fifteen minutes exactly is what the platform issues.
    verify_access_token(jwt.encode(_claims(exp=issued + 15 * 60), KEY, algorithm="HS256"), KEY, NOW)


def test_a_correctly_signed_token_without_iat_is_refused_even_with_a_short_exp() -> None:
    token = jwt.encode(_claims(iat=None, exp=int(NOW.timestamp()) + 60), KEY, algorithm="HS256")
    assert _code(token) == "INVALID_TOKEN"


def test_tokens_cannot_be_issued_for_longer_than_fifteen_minutes() -> None:
    with pytest.raises(ValueError, match="at most"):
        issue_access_token(subject="x", role=Role.STAFF, key=KEY, now=NOW, session_id="s1", ttl=timedelta(minutes=16))


def test_keys_shorter_than_32_bytes_are_refused() -> None:
    with pytest.raises(ValueError):
        issue_access_token(subject="x", role=Role.STAFF, key=b"k" * 31, now=NOW, session_id="s1")
    with pytest.raises(ValueError):
        verify_access_token("x.y.z", b"k" * 31, NOW)


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        issue_access_token(subject="x", role=Role.STAFF, key=KEY, now=NOW.replace(tzinfo=None), session_id="s1")


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "sub": st.text(max_size=10),
            "role": st.sampled_from(["merchant", "staff", "admin"]),
            "exp": st.integers(0, 2**40),
            "iat": st.integers(0, 2**40),
            "jti": st.text(max_size=5),
            "scopes": st.lists(st.sampled_from(["invoices:read", "invoices:write", "tracks:read"])),
            "typ": st.sampled_from(["access", "refresh"]),
        },
    ).filter(bool)
)
def test_tampered_payloads_never_verify(changes: dict[str, Any]) -> None:
    token, _ = issue_access_token(subject="24634102", role=Role.MERCHANT, key=KEY, now=NOW, session_id="s1")
    header, payload, signature = token.split(".")
    original = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    tampered = {**original, **changes}
    if tampered == original:
        return
    forged = f"{header}.{_b64(json.dumps(tampered).encode())}.{signature}"
    assert _code(forged) == "INVALID_TOKEN"


@given(st.text(max_size=300))
def test_arbitrary_text_only_ever_raises_token_invalid(text: str) -> None:
    assert _code(text) == "INVALID_TOKEN"


@given(st.binary(max_size=80), st.binary(max_size=80), st.binary(max_size=80))
def test_arbitrary_segments_only_ever_raise_token_invalid(a: bytes, b: bytes, c: bytes) -> None:
    assert _code(f"{_b64(a)}.{_b64(b)}.{_b64(c)}") == "INVALID_TOKEN"


def test_a_non_string_token_is_invalid() -> None:
    assert _code(None) == "INVALID_TOKEN"  # type: ignore[arg-type]


# --- refresh tokens -------------------------------------------------------------------------------


def test_a_new_refresh_token_has_the_documented_shape_and_stored_hash() -> None:
    issued = new_refresh_token()
    match = re.fullmatch(r"rt_([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})", issued.token)
    assert match is not None and match.group(1) == issued.token_id
    secret = match.group(2)
    assert issued.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in issued.secret_hash


def test_refresh_tokens_parse_back_and_verify() -> None:
    issued = new_refresh_token()
    token_id, secret = parse_refresh_token(issued.token)
    assert token_id == issued.token_id
    assert hash_secret(secret) == issued.secret_hash
    assert verify_refresh_secret(secret, issued.secret_hash)
    assert not verify_refresh_secret(secret + "x", issued.secret_hash)
    assert not verify_refresh_secret(secret, "證" * 64)


def test_refresh_tokens_are_unique() -> None:
    assert len({new_refresh_token().token for _ in range(200)}) == 200


@pytest.mark.parametrize(
    "value",
    [
        "",
        "rt_",
        "rt_abc.def",
        "ak_" + "a" * 16 + "." + "b" * 43,  # an API key is not a refresh token
        "rt_" + "a" * 16 + "." + "b" * 43 + "\n",
        "rt_" + "a" * 16 + "." + "b" * 42 + "=",
        "rt_" + "ａ" * 16 + "." + "b" * 43,
        None,
        b"rt_",
    ],
)
def test_malformed_refresh_tokens_are_invalid(value: object) -> None:
    with pytest.raises(TokenInvalid) as caught:
        parse_refresh_token(value)
    assert caught.value.code == "INVALID_TOKEN"


@given(st.text(max_size=100))
def test_parse_refresh_token_only_raises_token_invalid(text: str) -> None:
    try:
        token_id, secret = parse_refresh_token(text)
    except TokenInvalid:
        return
    assert text == f"rt_{token_id}.{secret}"
