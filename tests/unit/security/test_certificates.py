"""Certificate sign-up: chain, dates, proof of possession and the UBN, with generated certificates."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import DomainError, InvalidInput, RuleViolation
from chalicelib.security.certificates import VerifiedCertificate, verify_certificate_signup
from chalicelib.security.nonces import new_nonce
from tests.unit.security import certs

NOW = datetime(2025, 11, 20, 9, 30, tzinfo=UTC)
UBN = "24634102"


@pytest.fixture(scope="module")
def ca() -> certs.Issued:
    return certs.make_ca(now=NOW)


@pytest.fixture(scope="module")
def merchant(ca: certs.Issued) -> certs.Issued:
    return certs.issue_merchant_certificate(ca, UBN, now=NOW)


def _verify(
    leaf_pem: bytes | str, signature: str, nonce: str, ca: certs.Issued, now: datetime = NOW
) -> VerifiedCertificate:
    return verify_certificate_signup(leaf_pem, signature, nonce, [ca.pem], now)


def _refused(
    kind: type[DomainError],
    code: str,
    field: str,
    *arguments: Any,  # as for _verify: leaf_pem, signature, nonce, ca
) -> None:
    with pytest.raises(kind) as caught:
        _verify(*arguments)
    assert (caught.value.code, caught.value.field) == (code, field)
    assert caught.value.message and caught.value.message_zh


def test_a_valid_ec_certificate_yields_its_ubn_name_serial_and_expiry(ca: certs.Issued, merchant: certs.Issued) -> None:
    nonce = new_nonce()
    result = _verify(merchant.pem, certs.sign_nonce(merchant.key, nonce), nonce, ca)
    assert result.ubn == UBN
    assert result.subject_name == "範例商行"
    assert int(result.serial, 16) == merchant.cert.serial_number
    assert result.not_after == merchant.cert.not_valid_after_utc


def test_a_valid_rsa_certificate_is_accepted(ca: certs.Issued) -> None:
    leaf = certs.issue_merchant_certificate(ca, "22099131", key_type="rsa", now=NOW)
    nonce = new_nonce()
    assert _verify(leaf.pem, certs.sign_nonce(leaf.key, nonce), nonce, ca).ubn == "22099131"


def test_a_webcrypto_style_p1363_ecdsa_signature_is_accepted(ca: certs.Issued, merchant: certs.Issued) -> None:
    nonce = new_nonce()
    signature = certs.sign_nonce(merchant.key, nonce, p1363=True)
    assert len(base64.b64decode(signature)) == 64
    assert _verify(merchant.pem, signature, nonce, ca).ubn == UBN


def test_a_certificate_passed_as_text_is_accepted(ca: certs.Issued, merchant: certs.Issued) -> None:
    nonce = new_nonce()
    pem_text = merchant.pem.decode("ascii")
    signature = certs.sign_nonce(merchant.key, nonce)
    assert verify_certificate_signup(pem_text, signature, nonce, [ca.pem], NOW).ubn == UBN


def test_a_chain_through_one_intermediate_is_accepted(ca: certs.Issued) -> None:
    intermediate = certs.make_ca("Test MOEACA Issuing CA", issuer=ca, now=NOW)
    leaf = certs.issue_merchant_certificate(intermediate, UBN, now=NOW)
    nonce = new_nonce()
    bundle = leaf.pem + intermediate.pem
    assert _verify(bundle, certs.sign_nonce(leaf.key, nonce), nonce, ca).ubn == UBN


def test_validity_bounds_are_inclusive(ca: certs.Issued) -> None:
    start, end = NOW - timedelta(days=10), NOW + timedelta(days=10)
    leaf = certs.issue_merchant_certificate(ca, UBN, not_before=start, not_after=end)
    nonce = new_nonce()
    signature = certs.sign_nonce(leaf.key, nonce)
    assert _verify(leaf.pem, signature, nonce, ca, now=start).ubn == UBN
    assert _verify(leaf.pem, signature, nonce, ca, now=end).ubn == UBN
    with pytest.raises(RuleViolation, match="expired"):
        _verify(leaf.pem, signature, nonce, ca, now=end + timedelta(seconds=1))


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"not a certificate",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\n證書\n-----END CERTIFICATE-----\n",
        b"\x00" * 100_000,
    ],
)
def test_garbage_is_an_invalid_certificate(ca: certs.Issued, garbage: bytes | str) -> None:
    nonce = new_nonce()
    _refused(InvalidInput, "INVALID_CERTIFICATE", "certificate", garbage, "AAAA", nonce, ca)


def test_a_der_certificate_is_not_pem(ca: certs.Issued, merchant: certs.Issued) -> None:
    nonce = new_nonce()
    der = merchant.cert.public_bytes(serialization.Encoding.DER)
    _refused(InvalidInput, "INVALID_CERTIFICATE", "certificate", der, "AAAA", nonce, ca)


def test_a_bundle_with_two_intermediates_is_refused(ca: certs.Issued, merchant: certs.Issued) -> None:
    nonce = new_nonce()
    bundle = merchant.pem + ca.pem + ca.pem
    signature = certs.sign_nonce(merchant.key, nonce)
    _refused(InvalidInput, "INVALID_CERTIFICATE", "certificate", bundle, signature, nonce, ca)


def test_an_expired_certificate_is_refused(ca: certs.Issued) -> None:
    leaf = certs.expired_certificate(ca, UBN, now=NOW)
    nonce = new_nonce()
    signature = certs.sign_nonce(leaf.key, nonce)
    _refused(RuleViolation, "CERTIFICATE_EXPIRED", "certificate", leaf.pem, signature, nonce, ca)


def test_a_certificate_not_yet_valid_is_refused(ca: certs.Issued) -> None:
    leaf = certs.issue_merchant_certificate(ca, UBN, not_before=NOW + timedelta(minutes=1))
    nonce = new_nonce()
    signature = certs.sign_nonce(leaf.key, nonce)
    _refused(RuleViolation, "CERTIFICATE_NOT_YET_VALID", "certificate", leaf.pem, signature, nonce, ca)


def test_a_certificate_from_an_impostor_ca_with_the_same_name_is_untrusted(ca: certs.Issued) -> None:
    leaf = certs.untrusted_certificate(UBN, now=NOW)
    assert leaf.cert.issuer == ca.cert.subject  # only the key differs
    nonce = new_nonce()
    signature = certs.sign_nonce(leaf.key, nonce)
    _refused(RuleViolation, "CERTIFICATE_UNTRUSTED", "certificate", leaf.pem, signature, nonce, ca)


def test_nothing_is_trusted_without_trust_anchors(merchant: certs.Issued) -> None:
    nonce = new_nonce()
    with pytest.raises(RuleViolation) as caught:
        verify_certificate_signup(merchant.pem, certs.sign_nonce(merchant.key, nonce), nonce, [], NOW)
    assert caught.value.code == "CERTIFICATE_UNTRUSTED"


def test_the_ca_certificate_itself_is_not_a_merchant_certificate(ca: certs.Issued) -> None:
    nonce = new_nonce()
    signature = certs.sign_nonce(ca.key, nonce)
    _refused(RuleViolation, "CERTIFICATE_UNSUPPORTED", "certificate", ca.pem, signature, nonce, ca)


def test_an_encryption_only_certificate_cannot_sign_up(ca: certs.Issued) -> None:
    leaf = certs.issue_merchant_certificate(ca, UBN, signing=False, now=NOW)
    nonce = new_nonce()
    signature = certs.sign_nonce(leaf.key, nonce)
    _refused(RuleViolation, "CERTIFICATE_UNSUPPORTED", "certificate", leaf.pem, signature, nonce, ca)


def test_a_p384_key_is_unsupported(ca: certs.Issued) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    leaf = certs.issue_merchant_certificate(ca, UBN, key=key, now=NOW)
    nonce = new_nonce()
    signature = base64.b64encode(key.sign(nonce.encode(), ec.ECDSA(hashes.SHA256()))).decode()
    _refused(RuleViolation, "CERTIFICATE_UNSUPPORTED", "certificate", leaf.pem, signature, nonce, ca)


def test_an_intermediate_that_is_not_a_ca_breaks_the_chain(ca: certs.Issued) -> None:
    # A merchant's certificate must not be usable to vouch for a further certificate.
    fake_intermediate = certs.issue_merchant_certificate(ca, "22099131", now=NOW)
    leaf = certs.issue_merchant_certificate(fake_intermediate, UBN, now=NOW)
    nonce = new_nonce()
    signature = certs.sign_nonce(leaf.key, nonce)
    bundle = leaf.pem + fake_intermediate.pem
    _refused(RuleViolation, "CERTIFICATE_UNTRUSTED", "certificate", bundle, signature, nonce, ca)


def test_an_anchor_with_path_length_zero_allows_no_intermediate() -> None:
    root = certs.make_ca(path_length=0, now=NOW)
    intermediate = certs.make_ca("Test Issuing CA", issuer=root, now=NOW)
    leaf = certs.issue_merchant_certificate(intermediate, UBN, now=NOW)
    nonce = new_nonce()
    signature = certs.sign_nonce(leaf.key, nonce)
    _refused(
        RuleViolation,
        "CERTIFICATE_UNTRUSTED",
        "certificate",
        leaf.pem + intermediate.pem,
        signature,
        nonce,
        root,
    )


def test_an_expired_intermediate_breaks_the_chain(ca: certs.Issued) -> None:
    intermediate = certs.make_ca(
        "Test Issuing CA", issuer=ca, not_before=NOW - timedelta(days=800), not_after=NOW - timedelta(days=1)
    )
    leaf = certs.issue_merchant_certificate(intermediate, UBN, now=NOW)
    nonce = new_nonce()
    signature = certs.sign_nonce(leaf.key, nonce)
    _refused(
        RuleViolation,
        "CERTIFICATE_UNTRUSTED",
        "certificate",
        leaf.pem + intermediate.pem,
        signature,
        nonce,
        ca,
    )


def test_an_untrusted_intermediate_does_not_help(ca: certs.Issued) -> None:
    impostor_root = certs.make_ca(now=NOW)
    intermediate = certs.make_ca("Test Issuing CA", issuer=impostor_root, now=NOW)
    leaf = certs.issue_merchant_certificate(intermediate, UBN, now=NOW)
    nonce = new_nonce()
    signature = certs.sign_nonce(leaf.key, nonce)
    _refused(
        RuleViolation,
        "CERTIFICATE_UNTRUSTED",
        "certificate",
        leaf.pem + intermediate.pem,
        signature,
        nonce,
        ca,
    )


def test_a_signature_by_another_key_is_refused(ca: certs.Issued) -> None:
    case = certs.mismatched_key(ca, UBN, now=NOW)
    nonce = new_nonce()
    signature = certs.sign_nonce(case.other_key, nonce)
    _refused(RuleViolation, "SIGNATURE_INVALID", "signature", case.certificate.pem, signature, nonce, ca)


def test_a_signature_over_another_nonce_is_refused(ca: certs.Issued, merchant: certs.Issued) -> None:
    signature = certs.sign_nonce(merchant.key, new_nonce())
    _refused(RuleViolation, "SIGNATURE_INVALID", "signature", merchant.pem, signature, new_nonce(), ca)


def test_an_rsa_signature_by_another_key_is_refused(ca: certs.Issued) -> None:
    leaf = certs.issue_merchant_certificate(ca, UBN, key_type="rsa", now=NOW)
    nonce = new_nonce()
    signature = certs.sign_nonce(certs.new_key("ec"), nonce)
    _refused(RuleViolation, "SIGNATURE_INVALID", "signature", leaf.pem, signature, nonce, ca)


@pytest.mark.parametrize("signature", ["", "not base64!", "AAA", "ＡＡＡＡ", "A" * 5000])
def test_an_undecodable_signature_is_invalid_input(ca: certs.Issued, merchant: certs.Issued, signature: str) -> None:
    _refused(InvalidInput, "SIGNATURE_INVALID", "signature", merchant.pem, signature, new_nonce(), ca)


@given(signature=st.binary(min_size=1, max_size=600))
@settings(max_examples=50, deadline=None)
def test_random_signatures_never_verify(signature: bytes) -> None:
    ca = certs.make_ca(now=NOW)
    leaf = certs.issue_merchant_certificate(ca, UBN, now=NOW)
    with pytest.raises(RuleViolation) as caught:
        _verify(leaf.pem, base64.b64encode(signature).decode(), new_nonce(), ca)
    assert caught.value.code == "SIGNATURE_INVALID"


@pytest.mark.parametrize("nonce", ["", "short", "x" * 42 + "!", "ä" * 43, "a" * 44])
def test_a_malformed_nonce_is_invalid_input(ca: certs.Issued, merchant: certs.Issued, nonce: str) -> None:
    _refused(InvalidInput, "INVALID_NONCE", "nonce", merchant.pem, "AAAA", nonce, ca)


@pytest.mark.parametrize(
    "serial_numbers",
    [
        (),  # no serialNumber at all
        ("24634103",),  # check digit wrong: 24634102 is the valid neighbour
        ("2463410",),  # seven digits
        ("246341020",),  # nine digits
        ("TW24634102",),  # prefixed: refused rather than guessed at
        ("２４６３４１０２",),  # full-width digits
        ("24634102", "22099131"),  # two candidates: ambiguous
        ("24634102", "24634102"),  # even twice the same is not "exactly one"
        ("00000000",),  # the consumer marker, never a business
    ],
)
def test_the_ubn_must_be_exactly_one_valid_serial_number(ca: certs.Issued, serial_numbers: tuple[str, ...]) -> None:
    leaf = certs.issue_merchant_certificate(ca, serial_numbers=serial_numbers, now=NOW)
    nonce = new_nonce()
    signature = certs.sign_nonce(leaf.key, nonce)
    _refused(RuleViolation, "CERTIFICATE_NO_UBN", "certificate", leaf.pem, signature, nonce, ca)


def test_a_ubn_elsewhere_in_the_subject_is_not_used(ca: certs.Issued) -> None:
    leaf = certs.issue_merchant_certificate(ca, None, name="24634102", now=NOW)
    nonce = new_nonce()
    signature = certs.sign_nonce(leaf.key, nonce)
    _refused(RuleViolation, "CERTIFICATE_NO_UBN", "certificate", leaf.pem, signature, nonce, ca)


def test_a_naive_now_is_a_programming_error(ca: certs.Issued, merchant: certs.Issued) -> None:
    nonce = new_nonce()
    with pytest.raises(ValueError, match="timezone"):
        _verify(merchant.pem, certs.sign_nonce(merchant.key, nonce), nonce, ca, now=NOW.replace(tzinfo=None))


def test_a_misconfigured_trust_anchor_raises_for_the_operator(merchant: certs.Issued) -> None:
    nonce = new_nonce()
    signature = certs.sign_nonce(merchant.key, nonce)
    with pytest.raises(ValueError):
        verify_certificate_signup(merchant.pem, signature, nonce, [b"garbage"], NOW)
    with pytest.raises(ValueError, match="not a CA"):
        verify_certificate_signup(merchant.pem, signature, nonce, [merchant.pem], NOW)
