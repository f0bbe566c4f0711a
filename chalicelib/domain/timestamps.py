"""One rule for every timestamp the API answers: ISO 8601 in Taiwan time, ``+08:00``.

Timestamps reach a response from many places (pydantic ``datetime`` fields, strings stored in
DynamoDB by different services as ``Z`` or ``+00:00``, history details), so the rule is applied once,
where every JSON body is serialised (``errors.json_response``), rather than on each model.

Only a string that is a complete ISO 8601 date-time *with* an offset is rewritten: dates
(``2025-03-17``), times and free text are left alone. The instant is never changed, only the offset
it is written in.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.period import TAIWAN_TZ

_DATETIME_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$")


def taiwan_time(value: datetime) -> str:
    """``value`` written in Taiwan time; a naive datetime is taken as UTC (how the services store)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(TAIWAN_TZ).isoformat()


def in_taiwan_time(body: Any) -> Any:
    """``body`` (JSON-ready values) with every timestamp string rewritten to ``+08:00``."""
    if isinstance(body, dict):
        return {key: in_taiwan_time(item) for key, item in body.items()}
    if isinstance(body, list):
        return [in_taiwan_time(item) for item in body]
    if isinstance(body, str) and _DATETIME_WITH_OFFSET.match(body):
        try:
            parsed = datetime.fromisoformat(body)
        except ValueError:
            return body
        return taiwan_time(parsed)
    if isinstance(body, datetime):
        return taiwan_time(body)
    return body
