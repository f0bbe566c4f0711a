"""Key material: one root secret, and a separate derived key per purpose.

Deriving keys means a token key can never verify an API key hash or a cursor, and rotating the
root secret rotates all of them.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from chalicelib.adapters.aws import client
from chalicelib.settings import Settings, get_settings

# As for SECRET_KEY (settings.Settings.secret_key): at least as long as the HMAC-SHA256 output.
MIN_SECRET_LENGTH = 32


class MissingSecret(RuntimeError):
    """No usable root secret is configured; the platform cannot sign or verify anything."""


@lru_cache(maxsize=4)
def _from_parameter(name: str, settings: Settings) -> str:
    # Once per container: the secret is needed on nearly every request, and rotating it is a
    # deployment anyway (everything derived from it changes), which replaces the containers.
    from botocore.exceptions import ClientError

    try:
        response = client("ssm", settings=settings).get_parameter(Name=name, WithDecryption=True)
    except ClientError as exc:
        raise MissingSecret(f"the root secret parameter {name} cannot be read: {exc}") from None
    value = str(response["Parameter"]["Value"])
    if len(value) < MIN_SECRET_LENGTH:
        raise MissingSecret(f"the root secret in {name} must be at least {MIN_SECRET_LENGTH} characters")
    return value


def root_secret() -> bytes:
    """The SSM SecureString named by ``SECRET_KEY_PARAMETER`` where one is named (deployed
    stages), otherwise ``SECRET_KEY`` (`make run`, tests)."""
    settings = get_settings()
    if settings.secret_key_parameter:
        return _from_parameter(settings.secret_key_parameter, settings).encode()
    if settings.secret_key:
        return settings.secret_key.encode()
    raise MissingSecret("set SECRET_KEY_PARAMETER (an SSM SecureString) or SECRET_KEY")


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
