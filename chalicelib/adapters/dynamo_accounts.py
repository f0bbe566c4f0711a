"""Credentials and sessions of merchants and staff, in the merchants table.

Keys (``owner`` is ``MERCHANT#<ubn>`` or ``STAFF#<username>``):
- ``pk=<owner>, sk=CREDENTIAL``: password hash, must-change flag. (Failed sign-ins are counted
  apart, by adapters.dynamo_throttles, for unknown accounts too.)
- ``pk=<owner>, sk=SESSION#<id>``: one signed-in session; every authenticated request checks it,
  so logout and password resets take effect at once.
- ``pk=REFRESH#<id>, sk=REFRESH``: where a refresh token leads (its owner), kept after rotation
  as a tombstone so a replayed old token is recognised as theft.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import dynamodb, get, is_condition_failure, key, query_all, to_item
from chalicelib.domain.accounts import Credential, RefreshPointer, Session
from chalicelib.domain.errors import Conflict
from chalicelib.settings import get_settings

CREDENTIAL = "CREDENTIAL"


def _table() -> str:
    return get_settings().merchants_table


class DynamoCredentials:
    def get(self, owner: str) -> Credential | None:
        item = get(_table(), owner, CREDENTIAL)
        return Credential.model_validate(item) if item else None

    def create(self, owner: str, password_hash: str, *, must_change_password: bool, at: datetime) -> None:
        item = {
            "pk": owner,
            "sk": CREDENTIAL,
            "owner": owner,
            "password_hash": password_hash,
            "must_change_password": must_change_password,
            "password_changed_at": at.isoformat(),
        }
        try:
            dynamodb().put_item(TableName=_table(), Item=to_item(item), ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if is_condition_failure(exc):
                raise Conflict("ACCOUNT_EXISTS", "This account already exists", "此帳號已存在", None) from exc
            raise

    def set_password(self, owner: str, password_hash: str, *, must_change_password: bool, at: datetime) -> None:
        dynamodb().update_item(
            TableName=_table(),
            Key=key(owner, CREDENTIAL),
            # REMOVE: credentials written before sign-in throttling still carry lockout counters.
            UpdateExpression=(
                "SET password_hash = :h, must_change_password = :m, password_changed_at = :at "
                "REMOVE failures, last_failure_at"
            ),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=to_item({":h": password_hash, ":m": must_change_password, ":at": at.isoformat()}),
        )


def _session_items(session: Session) -> tuple[dict[str, Any], dict[str, Any]]:
    ttl = int(session.expires_at.timestamp())
    owned = {
        "pk": session.owner,
        "sk": f"SESSION#{session.session_id}",
        **session.model_dump(mode="json"),
        "ttl": ttl,
    }
    pointer = {
        "pk": f"REFRESH#{session.session_id}",
        "sk": "REFRESH",
        "session_id": session.session_id,
        "owner": session.owner,
        "secret_hash": session.secret_hash,
        "family": session.family,
        "status": "active",
        "ttl": ttl,
    }
    return owned, pointer


# Every authenticated request checks that its session still exists. A session confirmed to exist is
# remembered by this process for SESSION_CHECK_SECONDS, so a client sending requests in a row pays
# one read per few seconds instead of one per request (a GetItem: ~2.5 ms locally, more on AWS).
#
# The trade-off, revocation: ending a session (logout, password change or reset, a replayed refresh
# token, rotation) goes through this class, which forgets it in this process at once; but another
# warm Lambda container that confirmed the session within the last SESSION_CHECK_SECONDS still
# accepts its access token until its entry lapses. So a logout takes effect everywhere within
# SESSION_CHECK_SECONDS (at once on the container that handled it), not at the very next request;
# without the check the access token would live its full 15 minutes. Only "exists" is remembered:
# an ended or unknown session is read every time.
SESSION_CHECK_SECONDS = 5.0
_MAX_REMEMBERED = 10_000
_monotonic = time.monotonic  # a seam for tests


class _ConfirmedSessions:
    """Sessions seen to exist, with the monotonic time until which that answer is trusted."""

    def __init__(self) -> None:
        self._until: dict[tuple[str, str, str], float] = {}
        self._lock = threading.Lock()
        # Bumped by every forget: an answer read before a revocation must not be remembered after it.
        self._generation = 0

    def confirmed(self, key: tuple[str, str, str]) -> bool:
        until = self._until.get(key)
        return until is not None and until > _monotonic()

    def generation(self) -> int:
        return self._generation

    def remember(self, key: tuple[str, str, str], read_in_generation: int) -> None:
        with self._lock:
            if read_in_generation != self._generation:
                return  # a session was ended while we read: the answer may predate it
            self._until.pop(key, None)
            if len(self._until) >= _MAX_REMEMBERED:
                self._until.pop(next(iter(self._until)))  # the oldest entry
            self._until[key] = _monotonic() + SESSION_CHECK_SECONDS

    def forget(self, table: str, owner: str, session_id: str | None = None) -> None:
        """Forget one session of ``owner`` (all of them when ``session_id`` is None)."""
        with self._lock:
            self._generation += 1
            for key in [k for k in self._until if k[0] == table and k[1] == owner]:
                if session_id is None or key[2] == session_id:
                    del self._until[key]


_CONFIRMED = _ConfirmedSessions()


class DynamoSessions:
    def create(self, session: Session) -> None:
        owned, pointer = _session_items(session)
        dynamodb().transact_write_items(
            TransactItems=[
                {"Put": {"TableName": _table(), "Item": to_item(owned)}},
                {"Put": {"TableName": _table(), "Item": to_item(pointer)}},
            ]
        )

    def get(self, owner: str, session_id: str) -> Session | None:
        item = get(_table(), owner, f"SESSION#{session_id}")
        return Session.model_validate(item) if item else None

    def is_active(self, owner: str, session_id: str) -> bool:
        """Whether the session still exists (not logged out, rotated or revoked); see
        SESSION_CHECK_SECONDS for how long a "yes" is trusted by this process."""
        table = _table()
        remembered = (table, owner, session_id)
        if _CONFIRMED.confirmed(remembered):
            return True
        generation = _CONFIRMED.generation()
        item = (
            dynamodb()
            .get_item(
                TableName=table,
                Key=key(owner, f"SESSION#{session_id}"),
                ConsistentRead=True,
                ProjectionExpression="pk",
            )
            .get("Item")
        )
        if not item:
            return False
        _CONFIRMED.remember(remembered, generation)
        return True

    def pointer(self, session_id: str) -> RefreshPointer | None:
        item = get(_table(), f"REFRESH#{session_id}", "REFRESH")
        return RefreshPointer.model_validate(item) if item else None

    def rotate(self, old: RefreshPointer, new: Session) -> bool:
        """Replace ``old`` by ``new`` atomically; False if ``old`` was already used (a replay)."""
        owned, pointer = _session_items(new)
        try:
            dynamodb().transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": _table(),
                            "Key": key(f"REFRESH#{old.session_id}", "REFRESH"),
                            "UpdateExpression": "SET #s = :rotated",
                            "ConditionExpression": "#s = :active AND secret_hash = :h",
                            "ExpressionAttributeNames": {"#s": "status"},
                            "ExpressionAttributeValues": to_item(
                                {":rotated": "rotated", ":active": "active", ":h": old.secret_hash}
                            ),
                        }
                    },
                    {"Delete": {"TableName": _table(), "Key": key(old.owner, f"SESSION#{old.session_id}")}},
                    {"Put": {"TableName": _table(), "Item": to_item(owned)}},
                    {"Put": {"TableName": _table(), "Item": to_item(pointer)}},
                ]
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                return False
            raise
        finally:
            _CONFIRMED.forget(_table(), old.owner, old.session_id)
        return True

    def revoke(self, owner: str, session_id: str) -> None:
        try:
            dynamodb().transact_write_items(
                TransactItems=[
                    {"Delete": {"TableName": _table(), "Key": key(owner, f"SESSION#{session_id}")}},
                    {"Delete": {"TableName": _table(), "Key": key(f"REFRESH#{session_id}", "REFRESH")}},
                ]
            )
        finally:
            _CONFIRMED.forget(_table(), owner, session_id)

    def revoke_all(self, owner: str, family: str | None = None) -> int:
        """End every session of ``owner`` (or of one token family); returns how many."""
        sessions = query_all(
            TableName=_table(),
            KeyConditionExpression="pk = :pk AND begins_with(sk, :s)",
            ExpressionAttributeValues={":pk": {"S": owner}, ":s": {"S": "SESSION#"}},
            ConsistentRead=True,
        )
        count = 0
        for item in sessions:
            if family is None or item.get("family") == family:
                self.revoke(owner, str(item["session_id"]))
                count += 1
        if family is None:
            _CONFIRMED.forget(_table(), owner)
        return count
