"""API keys for a merchant's ERP/POS systems (``X-Api-Key``); the secret is shown once.

Keys are managed with a person's sign-in only: these routes name no API-key scope, so a request
authenticated by an API key is refused (routing.Auth), and a leaked key cannot mint more keys.
"""

from __future__ import annotations

from typing import Annotated

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api.api_key_auth import api_key_service
from chalicelib.api.errors import json_response
from chalicelib.api.routing import operation
from chalicelib.domain.fields import printable
from chalicelib.security.api_keys import ApiScope
from chalicelib.services.api_keys import MAX_ACTIVE_KEYS, ApiKeyView, CreatedApiKey
from chalicelib.services.principal import Principal

bp = Blueprint(__name__)
TAG = "API keys"


class CreateApiKeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, *printable(60, min_length=1), Field(description="What the key is for, e.g. 門市 POS 1")]
    # Plain strings, validated by the service, so an unknown scope gets INVALID_SCOPE naming it.
    scopes: list[str] = Field(
        min_length=1,
        max_length=len(ApiScope),
        description="Any of: " + ", ".join(s.value for s in ApiScope),
        json_schema_extra={"items": {"enum": [s.value for s in ApiScope]}},
    )


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_revoked: bool = Field(default=False, description="Also list keys revoked in the last 90 days")


class ApiKeyList(BaseModel):
    items: list[ApiKeyView]
    next_cursor: str | None = Field(
        default=None, description=f"Always null: a merchant has at most {MAX_ACTIVE_KEYS} active keys"
    )


@operation(
    bp,
    "/v1/api-keys",
    summary="Your API keys (never their secrets)",
    tag=TAG,
    query=ListQuery,
    response=ApiKeyList,
    auth="merchant",
    errors=(401, 403),
)
def list_keys(query: ListQuery, principal: Principal) -> ApiKeyList:
    return ApiKeyList(items=api_key_service().list(principal, include_revoked=query.include_revoked))


@operation(
    bp,
    "/v1/api-keys",
    "POST",
    summary="Create an API key for an ERP/POS; the full key is in this response only",
    tag=TAG,
    description=(
        f"At most {MAX_ACTIVE_KEYS} active keys per merchant (409 TOO_MANY_API_KEYS). Send the key as "
        "`X-Api-Key`. Idempotency-Key is deliberately not supported here: replaying the response "
        "would mean storing the secret."
    ),
    body=CreateApiKeyRequest,
    response=CreatedApiKey,
    status=201,
    auth="merchant",
    errors=(400, 401, 403, 409),
)
def create_key(body: CreateApiKeyRequest, principal: Principal) -> Response:
    created = api_key_service().create(principal, body.name, body.scopes)
    return json_response(created.model_dump(mode="json"), 201, {"Cache-Control": "no-store"})


@operation(
    bp,
    "/v1/api-keys/{key_id}",
    "DELETE",
    summary="Revoke an API key; requests with it fail (401) from now on",
    tag=TAG,
    status=204,
    auth="merchant",
    errors=(401, 403, 404),
)
def revoke_key(key_id: str, principal: Principal) -> Response:
    api_key_service().revoke(principal, key_id)
    return Response(body="", status_code=204)
