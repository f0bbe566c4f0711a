"""Idempotency-Key: a retried request is answered with what the first one made, never twice.

One rule for every use case that takes the header (issuing an invoice, an allowance): the record is
written in the same transaction as what it points at (a ``RecordIdempotencyKey`` intent), kept two
days, and a different request under the same key is refused rather than answered with the first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.writes import RecordIdempotencyKey

# Stripe keeps keys at least 24 hours; we keep them two days so a retry the next morning still
# finds the first invoice.
IDEMPOTENCY_TTL = timedelta(hours=48)


def request_hash(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_intent(
    key_id: str, number: str, fingerprint: str, at: datetime, kind: str = "invoice"
) -> RecordIdempotencyKey:
    expires = int((at + IDEMPOTENCY_TTL).timestamp())
    return RecordIdempotencyKey(key_id, number, fingerprint, expires, int(at.timestamp()), kind)


def is_live(record: Mapping[str, Any] | None, now: datetime) -> bool:
    """A record that has not expired (DynamoDB deletes expired ones lazily: they may still be read)."""
    return record is not None and int(record.get("expiration", 0)) >= int(now.timestamp())


def same_request(record: Mapping[str, Any], fingerprint: str) -> bool:
    return record.get("validation") == fingerprint
