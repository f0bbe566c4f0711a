"""API keys for merchants' ERP/POS systems: create (secret shown once), list, revoke, and
authenticate a request that carries ``X-Api-Key``.

A key acts for the merchant that created it, limited to its scopes. Keys are managed by people
(a signed-in merchant), never by another key, so a leaked key cannot mint more keys.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field

from chalicelib.domain.api_keys import ApiKeyLookup, ApiKeyRecord
from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import InvalidInput, NotFound, Unauthenticated
from chalicelib.security.api_keys import (
    hash_api_key_secret,
    new_api_key,
    parse_api_key,
    validate_scopes,
    verify_api_key_secret,
)
from chalicelib.security.tokens import Role
from chalicelib.services.ports import AuditLog
from chalicelib.services.principal import Principal

MAX_ACTIVE_KEYS = 20
MAX_NAME_LENGTH = 60
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{12}")
# Compared against when the key id is unknown, so that an unknown id costs what a wrong secret costs.
_DECOY_HASH = hash_api_key_secret("decoy")


class ApiKeyStore(Protocol):
    def create(self, record: ApiKeyRecord, *, max_active: int) -> None: ...

    def of_merchant(self, ubn: str, *, include_revoked: bool) -> list[ApiKeyRecord]: ...

    def get(self, ubn: str, key_id: str) -> ApiKeyRecord | None: ...

    def lookup(self, key_id: str) -> ApiKeyLookup | None: ...

    def revoke(self, ubn: str, key_id: str, at: datetime) -> bool: ...

    def touch(self, ubn: str, key_id: str, at: datetime) -> None: ...


class ApiKeyView(BaseModel):
    """A key as the merchant sees it in a list: never the secret."""

    key_id: str
    name: str
    scopes: list[str]
    prefix: str = Field(description="The start of the key (ak_<key_id>.), to recognise it in an ERP's settings")
    created_at: datetime
    last_used_at: datetime | None = Field(default=None, description="Updated at most once a minute")
    revoked_at: datetime | None = None


class CreatedApiKey(BaseModel):
    key_id: str
    name: str
    scopes: list[str]
    created_at: datetime
    api_key: str = Field(description="The whole key, shown only in this response: store it now")


def _view(record: ApiKeyRecord) -> ApiKeyView:
    return ApiKeyView(
        key_id=record.key_id,
        name=record.name,
        scopes=record.scopes,
        prefix=f"ak_{record.key_id}.",
        created_at=record.created_at,
        last_used_at=record.last_used_at,
        revoked_at=record.revoked_at,
    )


def _invalid_key() -> Unauthenticated:
    # One error for malformed, unknown, revoked and wrong-secret keys: the answer must not tell
    # a prober which key ids exist.
    return Unauthenticated("INVALID_API_KEY", "The API key is invalid or revoked", "API 金鑰無效或已撤銷")


def _not_found() -> NotFound:
    return NotFound("API_KEY_NOT_FOUND", "No such API key", "查無此 API 金鑰", "key_id")


class ApiKeyService:
    def __init__(self, *, store: ApiKeyStore, audit: AuditLog, clock: Clock, pepper: bytes) -> None:
        self._store = store
        self._audit = audit
        self._clock = clock
        self._pepper = pepper

    def create(self, principal: Principal, name: str, scopes: object) -> CreatedApiKey:
        name = name.strip()
        if not 1 <= len(name) <= MAX_NAME_LENGTH:
            raise InvalidInput(
                "INVALID_NAME",
                f"A key name is 1 to {MAX_NAME_LENGTH} characters",
                f"金鑰名稱須為 1 至 {MAX_NAME_LENGTH} 字",
                "name",
            )
        granted = sorted(scope.value for scope in validate_scopes(scopes))
        key = new_api_key(self._pepper)
        now = self._clock.now()
        record = ApiKeyRecord(
            key_id=key.key_id,
            ubn=principal.ubn,
            name=name,
            scopes=granted,
            secret_hash=key.secret_hash,
            created_at=now,
        )
        self._store.create(record, max_active=MAX_ACTIVE_KEYS)
        self._audit.record(
            principal.owner,
            "api_key_created",
            principal.actor,
            {"key_id": key.key_id, "name": name, "scopes": granted},
        )
        return CreatedApiKey(key_id=key.key_id, name=name, scopes=granted, created_at=now, api_key=key.value)

    def list(self, principal: Principal, *, include_revoked: bool = False) -> list[ApiKeyView]:
        return [_view(r) for r in self._store.of_merchant(principal.ubn, include_revoked=include_revoked)]

    def revoke(self, principal: Principal, key_id: str) -> None:
        """Revoke one of the caller's keys. Another merchant's key id is simply not found.
        Revoking a key already revoked succeeds (DELETE is idempotent)."""
        if not _KEY_ID.fullmatch(key_id):
            raise _not_found()
        if self._store.revoke(principal.ubn, key_id, self._clock.now()):
            self._audit.record(principal.owner, "api_key_revoked", principal.actor, {"key_id": key_id})
            return
        existing = self._store.get(principal.ubn, key_id)
        if existing is None or existing.revoked_at is None:
            raise _not_found()

    def authenticate(self, value: str) -> Principal:
        parsed = parse_api_key(value.strip())
        if parsed is None:
            raise _invalid_key()
        found = self._store.lookup(parsed.key_id)
        matches = verify_api_key_secret(parsed.secret, found.secret_hash if found else _DECOY_HASH, self._pepper)
        if found is None or not matches or found.revoked:
            raise _invalid_key()
        self._store.touch(found.ubn, found.key_id, self._clock.now())
        return Principal(
            role=Role.MERCHANT,
            subject=found.ubn,
            via="api_key",
            api_key_id=found.key_id,
            scopes=frozenset(found.scopes),
        )
