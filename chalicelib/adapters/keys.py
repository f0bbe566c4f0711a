"""Key material: one root secret, and a separate derived key per purpose.

Deriving keys means a token key can never verify an API key hash or a cursor, and rotating the
root secret rotates all of them.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from chalicelib.settings import get_settings


class MissingSecret(RuntimeError):
    """No root secret is configured; the platform cannot sign or verify anything."""


@lru_cache(maxsize=4)
def _from_parameter(name: str) -> str:
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_parameter(name, decrypt=True, max_age=300)
    return str(value)


def root_secret() -> bytes:
    settings = get_settings()
    if settings.secret_key:
        return settings.secret_key.encode()
    if settings.secret_key_parameter:
        return _from_parameter(settings.secret_key_parameter).encode()
    raise MissingSecret("set SECRET_KEY or SECRET_KEY_PARAMETER")


def derived_key(purpose: str) -> bytes:
    return hmac.new(root_secret(), f"einvoice:{purpose}".encode(), hashlib.sha256).digest()


def trusted_ca_pems() -> list[bytes]:
    """The CA certificates (PEM) trusted for certificate sign-up."""
    settings = get_settings()
    text = settings.trusted_ca_pems or ""
    if settings.trusted_ca_file:
        with open(settings.trusted_ca_file, encoding="ascii") as handle:
            text += "\n" + handle.read()
    marker = "-----END CERTIFICATE-----"
    return [(part.strip() + "\n" + marker + "\n").encode() for part in text.split(marker) if part.strip()]
