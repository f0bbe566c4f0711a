"""``X-Api-Key`` authentication, wired to its adapters (used by ``authentication.authenticate``)."""

from __future__ import annotations

from chalicelib.adapters.dynamo_api_keys import DynamoApiKeys
from chalicelib.adapters.keys import derived_key
from chalicelib.api import deps
from chalicelib.services.api_keys import ApiKeyService
from chalicelib.services.principal import Principal


def api_key_service() -> ApiKeyService:
    return ApiKeyService(
        store=DynamoApiKeys(), audit=deps.audit_log(), clock=deps.clock, pepper=derived_key("api-keys")
    )


def authenticate_api_key(value: str) -> Principal:
    """The merchant principal of a valid, unrevoked key; ``Unauthenticated`` otherwise."""
    return api_key_service().authenticate(value)
