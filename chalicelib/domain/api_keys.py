"""API keys as stored: a merchant's key (its secret only as a hash), and what authenticating reads."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class ApiKeyRecord(BaseModel):
    """A key as stored for its merchant (the secret only as a hash)."""

    key_id: str
    ubn: str
    name: str
    scopes: list[str]
    secret_hash: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class ApiKeyLookup(BaseModel):
    """What the authenticator reads for a key id."""

    key_id: str
    ubn: str
    secret_hash: str
    scopes: list[str]
    revoked: bool = False
