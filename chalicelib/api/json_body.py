"""Request bodies as JSON: exact decimals, and a nesting limit checked before the recursive parser runs.

Python's ``json`` decoder recurses once per ``[`` or ``{``: about a thousand levels raise
RecursionError, which would surface as a 500 on any route that reads JSON, signed-in or not. No body
the API documents is deeper than a handful of levels, so anything deeper than ``MAX_DEPTH`` is refused
with 400 after one linear scan that does not recurse.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from chalicelib.api.errors import ApiError

MAX_DEPTH = 32
# Strings are skipped whole, so a bracket inside a description never counts.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_OPENERS = frozenset(b"[{")


def _too_deep(raw: bytes) -> bool:
    depth = 0
    for match in _TOKENS.finditer(raw):
        token = match.group()
        if token[0] in _OPENERS:
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif token[0] != ord('"'):
            depth -= 1
    return False


def parse_json(raw: bytes | str | None) -> Any:
    if not raw:
        raise ApiError(400, "MISSING_BODY", "A JSON request body is required", "缺少 JSON 請求內容")
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if _too_deep(data):
        raise ApiError(
            400,
            "JSON_TOO_DEEP",
            f"The request body nests arrays and objects deeper than {MAX_DEPTH} levels",
            f"請求內容的陣列與物件巢狀超過 {MAX_DEPTH} 層",
        )
    try:
        # Decimal keeps money exact even when a client sends a JSON number instead of a string.
        return json.loads(data, parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(
            400, "MALFORMED_JSON", f"The request body is not valid JSON: {exc}", "請求內容不是有效的 JSON"
        ) from exc
