"""CAPTCHA challenges (security.captcha), in the merchants table.

- ``pk=CAPTCHA#<id>, sk=CAPTCHA``: the HMAC of the answer and when the challenge expires. Taking
  it deletes it, so a challenge answers exactly one attempt, right or wrong; ``ttl`` lets DynamoDB
  remove those never used.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.adapters.dynamo import dynamodb, take, to_item
from chalicelib.settings import get_settings

_SK = "CAPTCHA"


def _table() -> str:
    return get_settings().merchants_table


class DynamoCaptchas:
    def put(self, captcha_id: str, answer_hash: str, expires_at: datetime) -> None:
        item = {
            "pk": f"CAPTCHA#{captcha_id}",
            "sk": _SK,
            "answer_hash": answer_hash,
            "expires_at": expires_at.isoformat(),
            "ttl": int(expires_at.timestamp()),
        }
        dynamodb().put_item(TableName=_table(), Item=to_item(item))

    def take(self, captcha_id: str) -> tuple[str, datetime] | None:
        """Consume a challenge: ``(answer_hash, expires_at)``, or None if unknown or already used."""
        item = take(_table(), f"CAPTCHA#{captcha_id}", _SK)
        if item is None:
            return None
        return str(item["answer_hash"]), datetime.fromisoformat(item["expires_at"])
