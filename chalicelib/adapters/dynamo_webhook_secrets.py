"""Merchants' webhook secrets (``sk=WEBHOOK_SECRET`` in the merchants table), sealed at rest."""

from __future__ import annotations

import secrets

from chalicelib.adapters.dynamo import dynamodb, get, to_item
from chalicelib.security.sealing import Sealer
from chalicelib.settings import get_settings

SECRET_SK = "WEBHOOK_SECRET"  # noqa: S105 - a sort key, not a secret


class WebhookSecrets:
    """The merchants' webhook secrets, encrypted at rest (AES-GCM, key derived from the root
    secret): the secret must be readable to verify signatures, so it cannot be a one-way hash,
    and a copy of the table alone must not let anyone forge payment notices.

    Kept in its own item (``sk=WEBHOOK_SECRET``) rather than in the profile's settings, which are
    returned by ``GET /v1/merchant`` and validated strictly on every issue."""

    def __init__(self, key: bytes) -> None:
        self._sealer = Sealer(key)

    def rotate(self, ubn: str, at: str) -> str:
        secret = "whsec_" + secrets.token_urlsafe(32)
        item = {
            "pk": f"MERCHANT#{ubn}",
            "sk": SECRET_SK,
            "sealed": self._sealer.seal(secret.encode(), ubn),
            "rotated_at": at,
        }
        dynamodb().put_item(TableName=get_settings().merchants_table, Item=to_item(item))
        return secret

    def read(self, ubn: str) -> bytes | None:
        item = get(get_settings().merchants_table, f"MERCHANT#{ubn}", SECRET_SK)
        return self._sealer.open(item.get("sealed"), ubn) if item else None
