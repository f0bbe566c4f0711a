"""Bridge between pydantic's validation errors and the domain's error contract.

Pydantic checks the *shape* of a request (types, lengths, enumerations); callers must still get one
``InvalidInput`` with a stable ``code``, both messages and the dotted ``field`` path using the API's
JSON names (``items[2].quantity``), whatever layer found the problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from chalicelib.domain.errors import DomainError, InvalidInput

ModelT = TypeVar("ModelT", bound=BaseModel)


def field_path(loc: Sequence[int | str]) -> str:
    """``("items", 2, "quantity")`` becomes ``items[2].quantity``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else part
    return path


def as_pydantic_error(error: DomainError) -> PydanticCustomError:
    """Carry a domain error through pydantic so that the location pydantic knows gets attached to it.

    The domain error's own ``field`` is kept as a sub-path below that location (a model-level check
    on ``carrier`` reports ``id`` and ends up as ``carrier.id``).
    """
    return PydanticCustomError(
        error.code,
        "{message}",
        {"message": error.message, "message_zh": error.message_zh, "subfield": error.field or ""},
    )


def parse_model(model: type[ModelT], data: object) -> ModelT:
    """Validate ``data`` into ``model``, raising the first problem as ``InvalidInput``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_input_from(exc) from None


def invalid_input_from(exc: ValidationError) -> InvalidInput:
    """The first error of ``exc`` (pydantic reports them in field order) as an ``InvalidInput``."""
    details = exc.errors(include_url=False)[0]
    ctx: dict[str, Any] = dict(details.get("ctx") or {})
    path = field_path(details["loc"])
    if "message_zh" in ctx:
        subfield = str(ctx["subfield"])
        if subfield:
            path = f"{path}{subfield}" if subfield.startswith("[") or not path else f"{path}.{subfield}"
        return InvalidInput(details["type"], str(ctx["message"]), str(ctx["message_zh"]), path or None)
    code, message, message_zh = _describe_builtin(details, ctx)
    return InvalidInput(code, message, message_zh, path or None)


_FIXED_DESCRIPTIONS = {
    "missing": ("MISSING_FIELD", "This field is required.", "此欄位為必填。"),
    "extra_forbidden": ("UNKNOWN_FIELD", "This field is not part of the API.", "不支援此欄位。"),
    "string_too_short": ("EMPTY_VALUE", "This field must not be empty.", "此欄位不可為空白。"),
}

_LENGTH_DESCRIPTIONS = {
    "string_too_long": (
        "TOO_LONG",
        "At most {limit} characters.",
        "長度不可超過 {limit} 個字元。",
        "max_length",
    ),
    "too_long": ("TOO_MANY_ITEMS", "At most {limit} entries.", "最多 {limit} 筆。", "max_length"),
    "too_short": (
        "TOO_FEW_ITEMS",
        "At least {limit} entries are required.",
        "至少需要 {limit} 筆。",
        "min_length",
    ),
}


def _describe_builtin(details: ErrorDetails, ctx: dict[str, Any]) -> tuple[str, str, str]:
    kind = details["type"]
    if kind in _FIXED_DESCRIPTIONS:
        return _FIXED_DESCRIPTIONS[kind]
    if kind in _LENGTH_DESCRIPTIONS:
        code, message, message_zh, limit_key = _LENGTH_DESCRIPTIONS[kind]
        limit = ctx.get(limit_key)
        return code, message.format(limit=limit), message_zh.format(limit=limit)
    if kind in {"enum", "literal_error"}:
        last = next((part for part in reversed(details["loc"]) if isinstance(part, str)), "")
        expected = ctx.get("expected", "")
        code = f"INVALID_{last.upper()}" if last else "INVALID_VALUE"
        return code, f"Must be one of {expected}.", f"值須為下列之一：{expected}。"
    if kind.endswith(("_type", "_parsing")):
        return "INVALID_TYPE", f"Wrong type: {details['msg']}.", "資料型別錯誤。"
    return "INVALID_VALUE", f"Invalid value: {details['msg']}.", "欄位值不正確。"
