"""Test support: generated stand-ins for the MOEA certification authority and merchants' 工商憑證.

Importable by API tests as ``tests.unit.security.certs``. EC P-256 keys by default (an RSA-2048
key takes ~50 ms to generate, an EC key well under 1 ms); ``key_type="rsa"`` for the RSA path.

    ca = make_ca()
    merchant = issue_merchant_certificate(ca, "24634102")
    signature = sign_nonce(merchant.key, nonce)
    verify_certificate_signup(merchant.pem, signature, nonce, [ca.pem], now)
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
KeyType = Literal["ec", "rsa"]

CA_NAME = "Test MOEACA 工商憑證管理中心"


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: PrivateKey

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def new_key(key_type: KeyType = "ec") -> PrivateKey:
    if key_type == "rsa":
        return _rsa_key()
    return ec.generate_private_key(ec.SECP256R1())


@cache
def _rsa_key() -> rsa.RSAPrivateKey:
    # One RSA key per test session: generation is the slow part, and the key's identity never matters.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _default_window(now: datetime | None) -> tuple[datetime, datetime]:
    moment = now or datetime.now(UTC)
    return moment - timedelta(days=1), moment + timedelta(days=365)


def make_ca(
    name: str = CA_NAME,
    *,
    key: PrivateKey | None = None,
    issuer: Issued | None = None,
    path_length: int | None = None,
    now: datetime | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> Issued:
    """A root CA (self-signed), or an intermediate CA when ``issuer`` is given."""
    key = key or new_key()
    start, end = _default_window(now)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "TW"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or start - timedelta(days=3650))
        .not_valid_after(not_after or end + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    signer = issuer.key if issuer else key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


def _key_usage(*, signing: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=signing,
        key_encipherment=not signing,
        data_encipherment=not signing,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _serial_number_attribute(value: str) -> x509.NameAttribute[str]:
    # serialNumber defaults to PrintableString, which cannot hold e.g. full-width digits.
    kind = _ASN1Type.PrintableString if value.isascii() else _ASN1Type.UTF8String
    return x509.NameAttribute(NameOID.SERIAL_NUMBER, value, _type=kind)


def issue_merchant_certificate(
    ca: Issued,
    ubn: str | None = "24634102",
    *,
    name: str = "範例商行",
    key: PrivateKey | None = None,
    key_type: KeyType = "ec",
    now: datetime | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    serial_numbers: tuple[str, ...] | None = None,
    signing: bool = True,
    is_ca: bool = False,
) -> Issued:
    """A 工商憑證-like certificate: subject O=name, serialNumber=ubn (or each of ``serial_numbers``,
    or none with ``ubn=None``), valid from yesterday for a year unless told otherwise."""
    key = key or new_key(key_type)
    start, end = _default_window(now)
    values = serial_numbers if serial_numbers is not None else ((ubn,) if ubn is not None else ())
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "TW"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
        *(_serial_number_attribute(value) for value in values),
    ]
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attributes))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or start)
        .not_valid_after(not_after or end)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(_key_usage(signing=signing), critical=True)
    )
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


def expired_certificate(ca: Issued, ubn: str = "24634102", *, now: datetime | None = None) -> Issued:
    moment = now or datetime.now(UTC)
    return issue_merchant_certificate(
        ca, ubn, not_before=moment - timedelta(days=400), not_after=moment - timedelta(days=35)
    )


def untrusted_certificate(ubn: str = "24634102", *, now: datetime | None = None) -> Issued:
    """Issued by an impostor CA with the *same name* as ``make_ca()``'s but its own key."""
    return issue_merchant_certificate(make_ca(now=now), ubn, now=now)


@dataclass(frozen=True)
class Mismatched:
    """A valid certificate, and a different key that will sign the nonce."""

    certificate: Issued
    other_key: PrivateKey


def mismatched_key(ca: Issued, ubn: str = "24634102", *, now: datetime | None = None) -> Mismatched:
    return Mismatched(issue_merchant_certificate(ca, ubn, now=now), new_key())


def sign_nonce(key: PrivateKey, nonce: str, *, p1363: bool = False) -> str:
    """Base64 signature over the nonce's ASCII bytes: RSA PKCS#1 v1.5 or ECDSA, SHA-256.

    ``p1363=True`` gives the raw r||s form WebCrypto produces instead of DER.
    """
    message = nonce.encode("ascii")
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    else:
        signature = key.sign(message, ec.ECDSA(hashes.SHA256()))
        if p1363:
            from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

            r, s = decode_dss_signature(signature)
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return base64.b64encode(signature).decode("ascii")
