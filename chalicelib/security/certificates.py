"""Sign-up with a 工商憑證 (MOEA business certificate): prove control of the certificate's key by
signing a server nonce, and take the merchant's UBN from the certificate rather than from the form.

Revocation (the MOEACA CRL / OCSP) is not checked here: it needs network I/O, and this module is
pure. The sign-up use case should add it before production if the registry lookup is not enough.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID

from chalicelib.domain.errors import DomainError, InvalidInput, RuleViolation
from chalicelib.domain.ubn import is_valid_ubn
from chalicelib.security._time import require_aware
from chalicelib.security.nonces import is_well_formed_nonce

# Generous for a certificate plus one intermediate (a few KB each), small enough to keep the
# parser away from an attacker's megabytes.
MAX_BUNDLE_BYTES = 64 * 1024
MAX_SIGNATURE_CHARS = 2048  # base64 of an RSA-4096 signature is 684 characters
MIN_RSA_BITS = 2048
_P1363_P256_BYTES = 64


@dataclass(frozen=True)
class VerifiedCertificate:
    ubn: str
    subject_name: str  # organizationName, else commonName, else the RFC 4514 subject
    serial: str  # certificate serial number, upper-case hex
    not_after: datetime


def signup_message(nonce: str) -> bytes:
    """The exact bytes the client signs: the nonce as ASCII, so clients need no framing rules."""
    return nonce.encode("ascii")


def load_trusted_cas(pems: list[bytes]) -> list[x509.Certificate]:
    """Parse the configured trust anchors; ``ValueError`` on anything but CA certificates.

    Configuration errors are the operator's, so they raise rather than become a merchant's 400.
    """
    anchors: list[x509.Certificate] = []
    for pem in pems:
        for cert in x509.load_pem_x509_certificates(pem):
            if not _is_ca(cert):
                raise ValueError(f"trusted certificate {cert.subject.rfc4514_string()} is not a CA")
            anchors.append(cert)
    return anchors


def verify_certificate_signup(
    certificate_pem: bytes | str,
    signature_b64: str,
    nonce: str,
    trusted_ca_pems: list[bytes],
    now: datetime,
) -> VerifiedCertificate:
    """Verify a sign-up: the certificate (optionally followed by one intermediate CA in the same
    PEM bundle) chains to a trusted CA, is valid at ``now``, signed ``nonce``, and names a UBN.

    The caller still has to check that the nonce is one it issued, unexpired and unused
    (``chalicelib.security.nonces``), and that the UBN is registered and active.
    Errors are ``DomainError`` subclasses on the fields ``certificate``, ``signature``, ``nonce``.
    """
    require_aware(now, "now")
    anchors = load_trusted_cas(trusted_ca_pems)
    leaf, intermediates = _parse_bundle(certificate_pem)
    signature = _decode_signature(signature_b64)
    if not is_well_formed_nonce(nonce):
        raise InvalidInput("INVALID_NONCE", "The nonce is malformed.", "挑戰碼格式錯誤。", "nonce")

    _check_validity(leaf, now)
    _check_end_entity(leaf)
    _check_chain(leaf, intermediates, anchors, now)
    _check_signature(leaf, signature, signup_message(nonce))
    return VerifiedCertificate(
        ubn=_ubn_from_subject(leaf),
        subject_name=_subject_name(leaf),
        serial=format(leaf.serial_number, "X"),
        not_after=leaf.not_valid_after_utc,
    )


def _certificate_error(code: str, message: str, message_zh: str) -> DomainError:
    kind = InvalidInput if code == "INVALID_CERTIFICATE" else RuleViolation
    return kind(code, message, message_zh, "certificate")


def _parse_bundle(certificate_pem: bytes | str) -> tuple[x509.Certificate, list[x509.Certificate]]:
    malformed = _certificate_error(
        "INVALID_CERTIFICATE",
        "The certificate must be a PEM-encoded X.509 certificate, optionally followed by one "
        "intermediate CA certificate.",
        "憑證須為 PEM 格式的 X.509 憑證，後面可再附一張中繼 CA 憑證。",
    )
    data = certificate_pem.encode("utf-8", "replace") if isinstance(certificate_pem, str) else certificate_pem
    if not isinstance(data, bytes) or not data or len(data) > MAX_BUNDLE_BYTES:
        raise malformed
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except (ValueError, TypeError):
        raise malformed from None
    if not 1 <= len(certificates) <= 2:
        raise malformed
    return certificates[0], certificates[1:]


def _decode_signature(signature_b64: str) -> bytes:
    try:
        if not isinstance(signature_b64, str) or len(signature_b64) > MAX_SIGNATURE_CHARS:
            raise ValueError
        signature = base64.b64decode(signature_b64.strip(), validate=True)
    except (ValueError, binascii.Error):
        signature = b""
    if not signature:
        raise InvalidInput(
            "SIGNATURE_INVALID",
            "The signature must be the base64 encoding of the signature over the nonce.",
            "簽章須為對挑戰碼簽章後的 base64 編碼。",
            "signature",
        )
    return signature


def _check_validity(cert: x509.Certificate, now: datetime) -> None:
    if now < cert.not_valid_before_utc:
        raise _certificate_error("CERTIFICATE_NOT_YET_VALID", "The certificate is not yet valid.", "憑證尚未生效。")
    if now > cert.not_valid_after_utc:
        raise _certificate_error(
            "CERTIFICATE_EXPIRED",
            "The certificate has expired; renew it with the MOEA certification authority.",
            "憑證已過期，請先至工商憑證管理中心辦理展期。",
        )


def _basic_constraints(cert: x509.Certificate) -> x509.BasicConstraints | None:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None


def _key_usage(cert: x509.Certificate) -> x509.KeyUsage | None:
    try:
        return cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None


def _is_ca(cert: x509.Certificate) -> bool:
    constraints, usage = _basic_constraints(cert), _key_usage(cert)
    return constraints is not None and constraints.ca and (usage is None or usage.key_cert_sign)


def _check_end_entity(leaf: x509.Certificate) -> None:
    # A CA certificate or the encryption half of the MOEA certificate pair cannot sign a login proof.
    constraints, usage = _basic_constraints(leaf), _key_usage(leaf)
    signing = usage is None or usage.digital_signature or usage.content_commitment
    if (constraints is not None and constraints.ca) or not signing:
        raise _certificate_error(
            "CERTIFICATE_UNSUPPORTED",
            "Use the signing certificate of the business itself.",
            "請使用營業人本身的簽章用憑證。",
        )


def _issued_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _allows_intermediate(anchor: x509.Certificate) -> bool:
    constraints = _basic_constraints(anchor)
    return constraints is not None and (constraints.path_length is None or constraints.path_length >= 1)


def _check_chain(
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    anchors: list[x509.Certificate],
    now: datetime,
) -> None:
    # Matching issuer names is not enough (anyone can mint a CA with the MOEACA's name): the
    # anchor's key must verify the signature, which verify_directly_issued_by checks along with the
    # name. An expired intermediate breaks the chain, hence the date check on it.
    for anchor in anchors:
        if _issued_by(leaf, anchor):
            return
        for intermediate in intermediates:
            if (
                _is_ca(intermediate)
                and _allows_intermediate(anchor)
                and intermediate.not_valid_before_utc <= now <= intermediate.not_valid_after_utc
                and _issued_by(intermediate, anchor)
                and _issued_by(leaf, intermediate)
            ):
                return
    raise _certificate_error(
        "CERTIFICATE_UNTRUSTED",
        "The certificate was not issued by a trusted certificate authority.",
        "此憑證並非由受信任的憑證機構簽發。",
    )


def _p1363_to_der(signature: bytes) -> bytes:
    half = len(signature) // 2
    r, s = int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
    return encode_dss_signature(r, s)


def _check_signature(leaf: x509.Certificate, signature: bytes, message: bytes) -> None:
    unsupported = _certificate_error(
        "CERTIFICATE_UNSUPPORTED",
        f"The certificate key must be RSA (at least {MIN_RSA_BITS} bits) or ECDSA P-256.",
        f"憑證金鑰須為 RSA（至少 {MIN_RSA_BITS} 位元）或 ECDSA P-256。",
    )
    try:
        key = leaf.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise unsupported from None
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if key.key_size < MIN_RSA_BITS:
                raise unsupported
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
            return
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
            raise unsupported
        # Smart-card middleware returns DER; WebCrypto returns IEEE P1363 r||s. Both carry the same
        # (r, s), so accepting either weakens nothing.
        candidates = [signature]
        if len(signature) == _P1363_P256_BYTES:
            candidates.append(_p1363_to_der(signature))
        for candidate in candidates:
            try:
                key.verify(candidate, message, ec.ECDSA(hashes.SHA256()))
                return
            except InvalidSignature:
                continue
    except (InvalidSignature, ValueError):
        pass
    raise RuleViolation(
        "SIGNATURE_INVALID",
        "The signature does not match the certificate and the nonce.",
        "簽章與憑證或挑戰碼不符。",
        "signature",
    )


def _ubn_from_subject(leaf: x509.Certificate) -> str:
    # Our reference does not document where the MOEA certificate carries the 統一編號. We read it
    # from the subject's serialNumber (OID 2.5.4.5), as the team understands the MOEACA profile; this
    # is unconfirmed against the MOEACA certificate policy, so we take the strict reading:
    # exactly one serialNumber attribute, exactly eight ASCII digits, valid check digit. No
    # scanning of CN/O or other attributes for digits, no stripping of prefixes: a certificate that
    # does not fit is refused rather than guessed at, since this value becomes the account's UBN.
    values = leaf.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    value = values[0].value if len(values) == 1 else None
    if not isinstance(value, str) or not is_valid_ubn(value):
        raise _certificate_error(
            "CERTIFICATE_NO_UBN",
            "The certificate does not name a valid unified business number.",
            "憑證中沒有有效的統一編號。",
        )
    return value


def _subject_name(leaf: x509.Certificate) -> str:
    for oid in (NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME):
        values = leaf.subject.get_attributes_for_oid(oid)
        if values and isinstance(values[0].value, str) and values[0].value:
            return values[0].value
    return leaf.subject.rfc4514_string()
