"""A void (F0701) received as MIG XML, waiting for the replacement F0401 that completes it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PendingVoid:
    invoice_number: str
    reason: str
    remark: str | None
    random_number: str  # the version this void withdraws
    received_at: str
    expires_at: int  # epoch seconds; checked on reading too (DynamoDB's TTL deletes within days)

    def is_live(self, now: int) -> bool:
        return self.expires_at >= now
