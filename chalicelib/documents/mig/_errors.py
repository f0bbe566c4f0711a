"""One error type for callers: pydantic and lxml failures become ``InvalidInput`` with a MIG path."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from chalicelib.domain.errors import InvalidInput

# Stable error codes (part of the public contract; do not rename).
FIELD_REQUIRED = "MIG_FIELD_REQUIRED"
FIELD_TOO_LONG = "MIG_FIELD_TOO_LONG"
FIELD_TOO_SHORT = "MIG_FIELD_TOO_SHORT"
FIELD_PATTERN = "MIG_FIELD_PATTERN"
FIELD_ENUM = "MIG_FIELD_ENUM"
FIELD_DIGITS = "MIG_FIELD_DIGITS"
FIELD_RANGE = "MIG_FIELD_RANGE"
FIELD_COUNT = "MIG_FIELD_COUNT"
FIELD_TYPE = "MIG_FIELD_TYPE"
FIELD_UNKNOWN = "MIG_FIELD_UNKNOWN"
FIELD_ORDER = "MIG_FIELD_ORDER"
FIELD_CHARSET = "MIG_FIELD_CHARSET"
XML_MALFORMED = "MIG_XML_MALFORMED"
XML_FORBIDDEN = "MIG_XML_FORBIDDEN"
XML_ROOT = "MIG_XML_ROOT"
XML_NAMESPACE = "MIG_XML_NAMESPACE"
MESSAGE_TYPE = "MIG_MESSAGE_TYPE"
ALLOC_BOUNDARY = "MIG_ALLOC_BOUNDARY"
ALLOC_RANGE = "MIG_ALLOC_RANGE"
ALLOC_BOOKLETS = "MIG_ALLOC_BOOKLETS"
ALLOC_EMPTY = "MIG_ALLOC_EMPTY"
CSV_ENCODING = "MIG_CSV_ENCODING"
CSV_COLUMNS = "MIG_CSV_COLUMNS"


def invalid(code: str, field: str | None, detail: str, detail_zh: str) -> InvalidInput:
    """``InvalidInput`` whose messages start with the field path."""
    if field:
        return InvalidInput(code, f"{field}: {detail}", f"{field}：{detail_zh}", field)
    return InvalidInput(code, detail, detail_zh, None)


def custom(code: str, detail: str, detail_zh: str) -> PydanticCustomError:
    """A pydantic error that converts to ``code`` with these texts (raise inside validators)."""
    return PydanticCustomError(code, detail, {"en": detail, "zh": detail_zh})


def _texts(kind: str, ctx: Mapping[str, Any], value: Any) -> tuple[str, str, str]:
    """(code, English, zh-TW) for one pydantic error type."""
    if kind.startswith("decimal_") or kind in _RANGE_SIGNS:
        return _number_texts(kind, ctx)
    return _other_texts(kind, ctx, value)


_RANGE_SIGNS = {"greater_than_equal": "≥", "greater_than": ">", "less_than_equal": "≤", "less_than": "<"}


def _number_texts(kind: str, ctx: Mapping[str, Any]) -> tuple[str, str, str]:
    if kind == "decimal_max_digits":
        n = ctx.get("max_digits")
        return FIELD_DIGITS, f"has more than {n} digits", f"總位數不得超過 {n} 位"
    if kind == "decimal_max_places":
        n = ctx.get("decimal_places")
        if n == 0:
            return FIELD_DIGITS, "must be a whole number", "必須為整數"
        return FIELD_DIGITS, f"has more than {n} decimal places", f"小數位數不得超過 {n} 位"
    if kind == "decimal_whole_digits":
        n = ctx.get("whole_digits")
        return FIELD_DIGITS, f"has more than {n} digits before the point", f"整數位數不得超過 {n} 位"
    if kind in _RANGE_SIGNS:
        bound, sign = next(iter(ctx.values()), ""), _RANGE_SIGNS[kind]
        return FIELD_RANGE, f"must be {sign} {bound}", f"必須 {sign} {bound}"
    return FIELD_TYPE, "is not a valid decimal number", "不是有效的十進位數字"


def _other_texts(kind: str, ctx: Mapping[str, Any], value: Any) -> tuple[str, str, str]:  # noqa: PLR0911
    if kind == "missing":
        return FIELD_REQUIRED, "is required", "為必填欄位"
    if kind == "string_too_short":
        if ctx.get("min_length") == 1 and value == "":
            return FIELD_REQUIRED, "is required and may not be empty", "為必填欄位，不得為空白"
        n = ctx.get("min_length")
        return FIELD_TOO_SHORT, f"must be at least {n} characters", f"長度不得少於 {n} 個字元"
    if kind == "string_too_long":
        n = ctx.get("max_length")
        return FIELD_TOO_LONG, f"must be at most {n} characters", f"長度不得超過 {n} 個字元"
    if kind == "string_pattern_mismatch":
        return FIELD_PATTERN, "has an invalid format", "格式不正確"
    if kind in ("literal_error", "enum"):
        expected = ctx.get("expected", "")
        return FIELD_ENUM, f"must be one of {expected}", f"必須為下列值之一：{expected}"
    if kind in ("too_short", "too_long"):
        low, high = ctx.get("min_length"), ctx.get("max_length")
        detail = f"must have at least {low} item(s)" if kind == "too_short" else f"has more than {high} items"
        detail_zh = f"至少需 {low} 筆" if kind == "too_short" else f"不得超過 {high} 筆"
        return FIELD_COUNT, detail, detail_zh
    if kind == "extra_forbidden":
        return FIELD_UNKNOWN, "is not an element of this message", "不是此訊息的欄位"
    return FIELD_TYPE, "has the wrong type or an unreadable value", "資料型態或內容不正確"


def from_validation_error(exc: ValidationError, path: Callable[[tuple[int | str, ...]], str]) -> InvalidInput:
    """The first pydantic error as ``InvalidInput``; ``path`` maps its location to a field name."""
    first = exc.errors(include_url=False)[0]
    field = path(tuple(first["loc"]))
    ctx: Mapping[str, Any] = first.get("ctx") or {}
    kind = first["type"]
    if kind.startswith("MIG_"):
        return invalid(kind, field, str(ctx.get("en", first["msg"])), str(ctx.get("zh", first["msg"])))
    code, detail, detail_zh = _texts(kind, ctx, first.get("input"))
    return invalid(code, field, detail, detail_zh)
