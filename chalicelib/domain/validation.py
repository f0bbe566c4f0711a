"""Bridge between pydantic's validation errors and the domain's error contract.

Pydantic checks the *shape* of a request (types, lengths, enumerations); callers must still get one
``InvalidInput`` with a stable ``code``, both messages and the dotted ``field`` path using the API's
JSON names (``items[2].quantity``), whatever layer found the problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from chalicelib.domain.errors import DomainError, InvalidInput
from chalicelib.domain.validation_messages import describe

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
    # pydantic's own text names Python classes and is English only: each error type gets its own
    # sentences instead (domain/validation_messages.py).
    code, message, message_zh = describe(details["type"], details["loc"], path, ctx)
    return InvalidInput(code, message, message_zh, path or None)
