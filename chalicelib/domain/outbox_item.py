"""The states of an outbox item's steps, and where a step's result is kept on the item."""

from __future__ import annotations

PENDING, DONE, SKIPPED = "pending", "done", "skipped"
FINISHED = frozenset({DONE, SKIPPED})
#: A claimed send: ``sending#<expiry>`` (UTC stamps compare as strings).
LEASE_PREFIX = "sending#"


def result_attribute(step: str) -> str:
    return f"result_{step}"
