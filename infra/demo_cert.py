"""A stand-in business certificate (工商憑證) for `make run`, so a newcomer can try certificate sign-up.

Made once and kept under .data/demo-cert/ (git-ignored):

- ``ca.pem``: a local test CA. `make run` trusts it on the local stage only (infra/run.py adds it to
  ``TRUSTED_CA_PEMS``); no deployed stage ever reads this folder. Its private key is not kept: it
  signs the demo certificate once and is thrown away, so nothing else can be issued under it.
- ``cert.pem``: the demo merchant's certificate, subject serialNumber = DEMO_CERT_UBN (the attribute
  security.certificates reads the UBN from), ECDSA P-256, for signing only.
- ``key.pem``: its private key, PKCS#8 PEM without a passphrase (what WebCrypto imports), mode 0600.

Sign a challenge from /signup/certificate with it in the page (choose key.pem), or in a terminal:

    printf %s 'NONCE' | openssl dgst -sha256 -sign .data/demo-cert/key.pem | openssl base64 -A

Everything is made again when a file is missing or the certificate is close to expiry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

#: Registered in the local tax registry without an account (infra/seed.py), ready to sign up.
DEMO_CERT_UBN = "87654327"
DEMO_CERT_NAME = "憑證示範商行 Certificate Demo Shop"
_CA_NAME = "Local demo MOEACA (make run only)"
_VALID_FOR = timedelta(days=730)
_RENEW_BEFORE = timedelta(days=30)


@dataclass(frozen=True)
class DemoCertificate:
    folder: Path

    @property
    def ca(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def certificate(self) -> Path:
        return self.folder / "cert.pem"

    @property
    def key(self) -> Path:
        return self.folder / "key.pem"

    def sign_command(self, root: Path, nonce: str = "NONCE") -> str:
        """The one-line OpenSSL command that signs ``nonce`` with the demo key, paths from ``root``."""
        key = os.path.relpath(self.key, root)
        return f"printf %s '{nonce}' | openssl dgst -sha256 -sign {key} | openssl base64 -A"


def ensure_demo_certificate(data_dir: Path, now: datetime | None = None) -> DemoCertificate:
    """The demo CA, certificate and key under ``data_dir``/demo-cert, made if missing or expiring."""
    demo = DemoCertificate(data_dir / "demo-cert")
    moment = now or datetime.now(UTC)
    if not _usable(demo, moment):
        _make(demo, moment)
    return demo


def _usable(demo: DemoCertificate, now: datetime) -> bool:
    if not all(path.is_file() for path in (demo.ca, demo.certificate, demo.key)):
        return False
    try:
        certificate = x509.load_pem_x509_certificate(demo.certificate.read_bytes())
    except ValueError:
        return False
    return certificate.not_valid_after_utc - _RENEW_BEFORE > now


def _make(demo: DemoCertificate, now: datetime) -> None:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [x509.NameAttribute(NameOID.COUNTRY_NAME, "TW"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, _CA_NAME)]
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + _VALID_FOR + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(signing=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    merchant_key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "TW"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEMO_CERT_NAME),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, DEMO_CERT_UBN),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_name)
        .public_key(merchant_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + _VALID_FOR)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(signing=True), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    demo.folder.mkdir(parents=True, exist_ok=True)
    demo.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    demo.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    # The key is written with owner-only permissions from the start, never readable by others.
    descriptor = os.open(demo.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(
            merchant_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    demo.key.chmod(0o600)


def _usage(*, signing: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=signing,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signing,
        crl_sign=not signing,
        encipher_only=False,
        decipher_only=False,
    )


def trusted_with_demo_ca(demo: DemoCertificate, already_trusted: str | None) -> str:
    """``TRUSTED_CA_PEMS`` with the demo CA added to whatever the environment already trusts."""
    pem = demo.ca.read_text(encoding="ascii")
    if already_trusted and pem.strip() in already_trusted:
        return already_trusted
    return f"{already_trusted.rstrip()}\n{pem}" if already_trusted else pem
