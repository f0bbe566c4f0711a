"""``X-Api-Key`` authentication, wired to its adapters (used by ``authentication.authenticate``)."""

from __future__ import annotations

from chalicelib.api import deps
from chalicelib.services.api_keys import ApiKeyService
from chalicelib.services.principal import Principal


def api_key_service() -> ApiKeyService:
    return deps.api_key_service()


def authenticate_api_key(value: str) -> Principal:
    """The merchant principal of a valid, unrevoked key; ``Unauthenticated`` otherwise."""
    return api_key_service().authenticate(value)
