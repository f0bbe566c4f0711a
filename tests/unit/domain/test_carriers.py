"""Carriers (載具) and donation codes (捐贈碼): formats from reference §5."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.carriers import (
    CITIZEN_CERTIFICATE,
    EASYCARD,
    IPASS,
    MOBILE_BARCODE,
    Carrier,
    CarrierKind,
    check_carrier,
    validate_carrier,
)
from chalicelib.domain.donation import is_valid_donation_code, validate_donation_code
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.validation import parse_model

MOBILE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.+-"


@pytest.mark.parametrize(
    ("carrier_type", "carrier_id"),
    [
        (MOBILE_BARCODE, "/ABC+123"),  # API.md example
        (MOBILE_BARCODE, "/AB56P5Q"),  # MOF API v1.7 example
        (MOBILE_BARCODE, "/.-+0000"),
        (CITIZEN_CERTIFICATE, "AB12345678901234"),
        (EASYCARD, "0123456789"),
        (IPASS, "x" * 400),
        ("EJ0113", "member@example.com"),  # SmilePay's member-carrier type
    ],
)
def test_well_formed_carriers_pass(carrier_type: str, carrier_id: str) -> None:
    assert check_carrier(carrier_type, carrier_id).valid
    validate_carrier(carrier_type, carrier_id)


@pytest.mark.parametrize(
    ("carrier_type", "carrier_id"),
    [
        (MOBILE_BARCODE, "/abc+123"),  # lowercase
        (MOBILE_BARCODE, "ABC+1234"),  # no leading slash
        (MOBILE_BARCODE, "/ABC+12"),  # too short
        (MOBILE_BARCODE, "/ABC+1234"),  # too long
        (MOBILE_BARCODE, "/ABC_123"),
        (CITIZEN_CERTIFICATE, "ab12345678901234"),
        (CITIZEN_CERTIFICATE, "AB1234567890123"),
        (CITIZEN_CERTIFICATE, "A123456789012345"),
        (EASYCARD, "   "),
        (IPASS, "x" * 401),
        ("EJ0113", ""),
    ],
)
def test_malformed_carrier_ids_are_reported_on_the_id(carrier_type: str, carrier_id: str) -> None:
    result = check_carrier(carrier_type, carrier_id)
    assert not result.valid
    assert (result.code, result.field) == ("INVALID_CARRIER", "id")
    assert result.reason and result.reason_zh


def test_a_plus_decoded_as_space_gets_a_helpful_reason() -> None:
    result = check_carrier(MOBILE_BARCODE, "/ABC 123")
    assert not result.valid
    assert result.reason is not None and "%2B" in result.reason


@pytest.mark.parametrize("carrier_type", ["5G0001", "3J002", "ej0113", "EJ01134", "", None, 3])
def test_unknown_carrier_types_are_reported_on_the_type(carrier_type: object) -> None:
    result = check_carrier(carrier_type, "/ABC+123")
    assert not result.valid
    assert (result.code, result.field) == ("INVALID_CARRIER_TYPE", "type")


def test_validate_carrier_raises_with_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_carrier(MOBILE_BARCODE, "/abc+123")
    assert (caught.value.code, caught.value.field) == ("INVALID_CARRIER", "id")


@given(st.one_of(st.none(), st.integers(), st.text(max_size=20)), st.one_of(st.none(), st.text(max_size=500)))
def test_check_carrier_never_raises(carrier_type: object, carrier_id: object) -> None:
    assert isinstance(check_carrier(carrier_type, carrier_id).valid, bool)


@given(st.text(alphabet=MOBILE_ALPHABET, min_size=7, max_size=7))
def test_every_mobile_barcode_of_the_allowed_alphabet_passes(body: str) -> None:
    assert check_carrier(MOBILE_BARCODE, "/" + body).valid


@given(
    st.text(alphabet=MOBILE_ALPHABET, min_size=6, max_size=6),
    st.characters().filter(lambda c: c not in MOBILE_ALPHABET),
    st.integers(0, 6),
)
def test_any_character_outside_the_alphabet_fails(body: str, bad: str, at: int) -> None:
    assert not check_carrier(MOBILE_BARCODE, "/" + body[:at] + bad + body[at:]).valid


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2), st.integers(0, 10**14 - 1))
def test_citizen_certificate_pattern(letters: str, number: int) -> None:
    assert check_carrier(CITIZEN_CERTIFICATE, f"{letters}{number:014d}").valid
    assert not check_carrier(CITIZEN_CERTIFICATE, f"{letters}{number:013d}"[:15]).valid


def test_carrier_model_ids() -> None:
    mobile = Carrier(type=MOBILE_BARCODE, id="/ABC+123")
    assert mobile.kind is CarrierKind.MOBILE_BARCODE
    assert (mobile.id1, mobile.id2) == ("/ABC+123", "/ABC+123")  # public carriers: Id1 = Id2
    member = Carrier(type="EJ0113", id="0912345678", hidden_id="M-000042")
    assert (member.kind, member.id1, member.id2) == (CarrierKind.MEMBER, "0912345678", "M-000042")


def test_carrier_model_errors_point_inside_the_carrier() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_model(Carrier, {"type": MOBILE_BARCODE, "id": "/ABC+123", "hidden_id": "/XYZ+999"})
    assert caught.value.field == "hidden_id"
    with pytest.raises(InvalidInput) as caught:
        parse_model(Carrier, {"type": "ZZZ", "id": "x"})
    assert (caught.value.code, caught.value.field) == ("INVALID_CARRIER_TYPE", "type")


@pytest.mark.parametrize("code", ["919", "25885", "1234567"])
def test_donation_codes_are_three_to_seven_digits(code: str) -> None:
    assert is_valid_donation_code(code)
    assert validate_donation_code(code) == code


@pytest.mark.parametrize("code", ["12", "12345678", "12a45", "１２３", "", " 919"])
def test_malformed_donation_codes(code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_donation_code(code)
    assert (caught.value.code, caught.value.field) == ("INVALID_DONATION_CODE", "donation_code")
