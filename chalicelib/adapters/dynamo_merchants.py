"""Merchant profiles and their pending one-time codes, in the merchants table.

- ``pk=MERCHANT#<ubn>, sk=PROFILE``: name, contact details, receivers, settings.
- ``pk=MERCHANT#<ubn>, sk=CODE#<purpose>``: the current one-time code of a purpose (receiver
  verification per channel, password reset); a new code replaces the old one.
- ``pk=NONCE#<nonce>, sk=NONCE``: a certificate sign-up challenge, deleted when used.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from chalicelib.adapters.dynamo import dynamodb, from_item, get, is_condition_failure, key, to_item
from chalicelib.domain.errors import Conflict
from chalicelib.services.principal import merchant_owner
from chalicelib.settings import get_settings

PROFILE = "PROFILE"


def _table() -> str:
    return get_settings().merchants_table


class PendingCode(BaseModel):
    purpose: str
    code_hash: str
    target: str
    expires_at: datetime
    attempts: int = 0


class DynamoMerchants:
    # --- profile --------------------------------------------------------------------------

    def get_profile(self, ubn: str) -> dict[str, Any] | None:
        return get(_table(), merchant_owner(ubn), PROFILE)

    def profile_key(self, ubn: str) -> tuple[str, dict[str, Any]]:
        """``(table, key)`` of the profile, for a read batched with others (``dynamo.get_many``)."""
        return _table(), key(merchant_owner(ubn), PROFILE)

    def create_account(
        self, profile: dict[str, Any], *, password_hash: str, must_change_password: bool, at: datetime
    ) -> None:
        """Profile and credential together, or neither: a sign-up never leaves half an account."""
        owner = merchant_owner(profile["ubn"])
        profile_item = {"pk": owner, "sk": PROFILE, **profile}
        credential_item = {
            "pk": owner,
            "sk": "CREDENTIAL",
            "owner": owner,
            "password_hash": password_hash,
            "must_change_password": must_change_password,
            "failures": 0,
            "password_changed_at": at.isoformat(),
        }
        try:
            dynamodb().transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": _table(),
                            "Item": to_item(item),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    }
                    for item in (profile_item, credential_item)
                ]
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                raise Conflict(
                    "MERCHANT_EXISTS",
                    "This business already has an account on the platform",
                    "此營業人已有平台帳號",
                    "ubn",
                ) from exc
            raise

    def update_profile(self, ubn: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Set top-level attributes of the profile; returns the profile after the change."""
        names = {f"#a{i}": name for i, name in enumerate(changes)}
        values = {f":v{i}": value for i, value in enumerate(changes.values())}
        assignments = ", ".join(f"#a{i} = :v{i}" for i in range(len(changes)))
        response = dynamodb().update_item(
            TableName=_table(),
            Key=key(merchant_owner(ubn), PROFILE),
            UpdateExpression=f"SET {assignments}",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_item(values),
            ReturnValues="ALL_NEW",
        )
        return from_item(response["Attributes"])

    # --- one-time codes -------------------------------------------------------------------

    def put_code(self, ubn: str, code: PendingCode) -> None:
        item = {
            "pk": merchant_owner(ubn),
            "sk": f"CODE#{code.purpose}",
            **code.model_dump(mode="json"),
            "ttl": int(code.expires_at.timestamp()),
        }
        dynamodb().put_item(TableName=_table(), Item=to_item(item))

    def get_code(self, ubn: str, purpose: str) -> PendingCode | None:
        item = get(_table(), merchant_owner(ubn), f"CODE#{purpose}")
        return PendingCode.model_validate(item) if item else None

    def count_code_attempt(self, ubn: str, purpose: str) -> None:
        dynamodb().update_item(
            TableName=_table(),
            Key=key(merchant_owner(ubn), f"CODE#{purpose}"),
            UpdateExpression="ADD attempts :one",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=to_item({":one": 1}),
        )

    def delete_code(self, ubn: str, purpose: str) -> bool:
        """Delete the code; False when it was already gone (used by a concurrent request)."""
        try:
            dynamodb().delete_item(
                TableName=_table(),
                Key=key(merchant_owner(ubn), f"CODE#{purpose}"),
                ConditionExpression="attribute_exists(pk)",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    # --- certificate challenges -----------------------------------------------------------

    def put_nonce(self, nonce: str, issued_at: datetime, expires_at: datetime) -> None:
        item = {
            "pk": f"NONCE#{nonce}",
            "sk": "NONCE",
            "issued_at": issued_at.isoformat(),
            "expires_at": expires_at.isoformat(),
            "ttl": int(expires_at.timestamp()),
        }
        dynamodb().put_item(TableName=_table(), Item=to_item(item))

    def take_nonce(self, nonce: str) -> datetime | None:
        """Consume a nonce: its expiry if it existed, None if unknown or already used."""
        try:
            response = dynamodb().delete_item(
                TableName=_table(),
                Key=key(f"NONCE#{nonce}", "NONCE"),
                ConditionExpression="attribute_exists(pk)",
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return datetime.fromisoformat(from_item(response["Attributes"])["expires_at"])
