"""Merchant profiles and their pending one-time codes, in the merchants table.

- ``pk=MERCHANT#<ubn>, sk=PROFILE``: name, contact details, receivers, settings. The QR-code AES
  key is stored sealed (``settings.qr_aes_key_sealed``, see ``chalicelib.security.sealing``) and
  handed to callers in plain as ``settings.qr_aes_key``; a profile written before keys were sealed
  still has it in plain, is read as it is and sealed on its next write.
- ``pk=MERCHANT#<ubn>, sk=CODE#<purpose>``: the current one-time code of a purpose (receiver
  verification per channel, password reset) and the attempts made at it; a new code replaces the
  old one (limits that a new code must not reset are kept by adapters.dynamo_throttles).
- ``pk=NONCE#<nonce>, sk=NONCE``: a certificate sign-up challenge, deleted when used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import dynamodb, from_item, get, is_condition_failure, key, take, to_item
from chalicelib.adapters.keys import derived_key
from chalicelib.domain.accounts import PendingCode
from chalicelib.domain.errors import Conflict
from chalicelib.domain.merchant import MerchantProfile
from chalicelib.domain.owners import merchant_owner
from chalicelib.security.sealing import Sealer
from chalicelib.settings import get_settings

PROFILE = "PROFILE"
QR_KEY = "qr_aes_key"
SEALED_QR_KEY = "qr_aes_key_sealed"
_log = logging.getLogger(__name__)


def _table() -> str:
    return get_settings().merchants_table


@lru_cache(maxsize=2)
def _sealer(key: bytes) -> Sealer:
    return Sealer(key)


def _qr_keys() -> Sealer:
    return _sealer(derived_key("merchant-qr-keys"))


def _sealed(ubn: str, profile: dict[str, Any]) -> dict[str, Any]:
    """``profile`` as stored: its QR key sealed."""
    settings = profile.get("settings")
    if not isinstance(settings, dict) or not settings.get(QR_KEY):
        return profile
    stored = {name: value for name, value in settings.items() if name != QR_KEY}
    stored[SEALED_QR_KEY] = _qr_keys().seal(str(settings[QR_KEY]).encode("ascii"), ubn)
    return {**profile, "settings": stored}


def _opened(ubn: str, item: dict[str, Any]) -> dict[str, Any]:
    """A stored profile as callers use it: its QR key in plain."""
    settings = item.get("settings")
    if not isinstance(settings, dict) or SEALED_QR_KEY not in settings:
        return item  # no key, or one stored in plain before keys were sealed
    opened = {name: value for name, value in settings.items() if name != SEALED_QR_KEY}
    plain = _qr_keys().open(settings[SEALED_QR_KEY], ubn)
    if plain is None:
        # Sealed under a root secret since rotated: the merchant sets the key again, as when it
        # was never set, rather than every issue failing with a server error.
        _log.warning("the QR key of merchant %s does not open; treated as not set", ubn)
    else:
        opened[QR_KEY] = plain.decode("ascii")
    return {**item, "settings": opened}


class DynamoMerchants:
    def __init__(self, *, on_profile_change: Callable[[str], None] | None = None) -> None:
        # Told the UBN after each change of a profile (the issuing cache of this container forgets it).
        self._on_profile_change = on_profile_change

    def _changed(self, ubn: str) -> None:
        if self._on_profile_change is not None:
            self._on_profile_change(ubn)

    # --- profile --------------------------------------------------------------------------

    def get_profile(self, ubn: str) -> dict[str, Any] | None:
        item = get(_table(), merchant_owner(ubn), PROFILE)
        return None if item is None else _opened(ubn, item)

    def profile(self, ubn: str) -> MerchantProfile | None:
        stored = self.get_profile(ubn)
        return None if stored is None else MerchantProfile.of(stored)

    def profile_key(self, ubn: str) -> tuple[str, dict[str, Any]]:
        """``(table, key)`` of the profile, for a read batched with others (``dynamo.get_many``);
        pass what it read to ``profile_from_item``."""
        return _table(), key(merchant_owner(ubn), PROFILE)

    def profile_from_item(self, ubn: str, item: dict[str, Any] | None) -> dict[str, Any] | None:
        """The profile as ``get_profile`` answers it, from the item a batched read returned."""
        return None if item is None else _opened(ubn, item)

    def create_account(
        self, profile: dict[str, Any], *, password_hash: str, must_change_password: bool, at: datetime
    ) -> None:
        """Profile and credential together, or neither: a sign-up never leaves half an account."""
        owner = merchant_owner(profile["ubn"])
        profile_item = {"pk": owner, "sk": PROFILE, **_sealed(profile["ubn"], profile)}
        credential_item = {
            "pk": owner,
            "sk": "CREDENTIAL",
            "owner": owner,
            "password_hash": password_hash,
            "must_change_password": must_change_password,
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
        changes = _sealed(ubn, changes)
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
        self._changed(ubn)
        return _opened(ubn, from_item(response["Attributes"]))

    def seal_plain_qr_keys(self) -> int:
        """Seal every QR key still stored in plain (profiles from before sealing); how many were.

        Each rewrite is conditional on the plain key it read, so a merchant who sets a new key
        meanwhile keeps the new one. Run once after deploying (``python -m infra.manage
        seal-qr-keys``); ``make run`` runs it at start-up for the data it keeps.
        """
        from chalicelib.adapters.dynamo_directory import merchant_page

        sealed = 0
        cursor: str | None = None
        while True:
            profiles, cursor = merchant_page(cursor)
            for item in profiles:
                settings = item.get("settings")
                plain = settings.get(QR_KEY) if isinstance(settings, dict) else None
                if not plain:
                    continue
                ubn = str(item["ubn"])
                try:
                    dynamodb().update_item(
                        TableName=_table(),
                        Key=key(merchant_owner(ubn), PROFILE),
                        UpdateExpression="SET settings = :sealed",
                        ConditionExpression="settings.#plain = :plain",
                        ExpressionAttributeNames={"#plain": QR_KEY},
                        ExpressionAttributeValues=to_item(
                            {":sealed": _sealed(ubn, {"settings": settings})["settings"], ":plain": plain}
                        ),
                    )
                except ClientError as exc:
                    if not is_condition_failure(exc):
                        raise
                    continue  # changed meanwhile: that write sealed it
                sealed += 1
            if cursor is None:
                return sealed

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

    def claim_code_attempt(self, ubn: str, code: PendingCode, limit: int) -> int | None:
        """Take one of ``limit`` attempts at ``code`` before checking it: the number of attempts
        made before this one, or None when none is left (or the code was replaced or used).

        One conditional update, so however many guesses race, at most ``limit`` are ever checked.
        """
        try:
            response = dynamodb().update_item(
                TableName=_table(),
                Key=key(merchant_owner(ubn), f"CODE#{code.purpose}"),
                UpdateExpression="ADD attempts :one",
                ConditionExpression="code_hash = :h AND (attribute_not_exists(attempts) OR attempts < :limit)",
                ExpressionAttributeValues=to_item({":one": 1, ":h": code.code_hash, ":limit": limit}),
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return int(from_item(response["Attributes"])["attempts"]) - 1

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
        item = take(_table(), f"NONCE#{nonce}", "NONCE")
        return None if item is None else datetime.fromisoformat(item["expires_at"])
