"""The MIG 4.1 models' base and the model introspection the XML engine uses (``_xml``);
``_base.MigMessage`` joins the two.

Every model mirrors one XML element. Its fields are declared **in XSD sequence order**; the
element name of a field is its snake_case name in PascalCase (``invoice_number`` ->
``InvoiceNumber``) unless the class overrides it in ``mig_names`` (``npoban`` -> ``NPOBAN``).
A field holds a scalar (text), a nested model (a child element) or a sequence of models (a wrapper
element such as ``Details`` whose children are all the item model's ``mig_tag``).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any, ClassVar, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from chalicelib.documents.mig._errors import from_validation_error

MIG_VERSION = "4.1"
M = TypeVar("M", bound="MigModel")


class MessageType(StrEnum):
    """The MIG 4.1 messages this platform writes (and reads back)."""

    F0401 = "F0401"
    F0501 = "F0501"
    F0701 = "F0701"
    G0401 = "G0401"
    G0501 = "G0501"
    E0401 = "E0401"
    E0402 = "E0402"
    G0701 = "G0701"
    # 中獎清冊 (winning-invoice list), MOF → head office; still MIG 4.0 (SCHEMA_VERSIONS).
    E0504 = "E0504"
    # 進項存證 (purchase lists), platform → buyer: one InputInvoice / InputAllowance per document.
    E0502 = "E0502"
    E0503 = "E0503"
    # B2B exchange (交換) between two merchants: issue/confirm, cancel/confirm, reject/confirm.
    A0101 = "A0101"
    A0102 = "A0102"
    A0201 = "A0201"
    A0202 = "A0202"
    A0301 = "A0301"
    A0302 = "A0302"
    B0101 = "B0101"
    B0102 = "B0102"
    B0201 = "B0201"
    B0202 = "B0202"

    @property
    def namespace(self) -> str:
        """``urn:GEINV:eInvoiceMessage:<CODE>:4.1`` (reference §2.3); E0504 is still 4.0 in MIG 4.1."""
        return namespace_for(self.value, SCHEMA_VERSIONS.get(self.value, MIG_VERSION))


#: Messages whose newest official schema is older than MIG 4.1 (the MOF ships E0504 at 4.0).
SCHEMA_VERSIONS = {"E0504": "4.0"}


def namespace_for(code: str, version: str = MIG_VERSION) -> str:
    return f"urn:GEINV:eInvoiceMessage:{code}:{version}"


class MigModel(BaseModel):
    """One MIG element with element-only content."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The element name of this model when it is a list item or a root (``ProductItem``).
    mig_tag: ClassVar[str] = ""
    #: Element names that are not the PascalCase of the field name.
    mig_names: ClassVar[Mapping[str, str]] = {}
    #: Whether the children must come in field order (``xsd:sequence``). The official MIG 4.1
    #: XSDs make Invoice, Main, ProductItem, Amount and the other messages ``xsd:all`` (any order);
    #: only Seller/Buyer (the RoleDescriptionType group) are a sequence. Output is always in order.
    mig_ordered: ClassVar[bool] = False

    def __init__(self, /, **data: Any) -> None:
        """Construct and validate; failures raise ``InvalidInput`` with the MIG path (relative to
        this element, e.g. ``Buyer.Name`` for an ``InvoiceMain``)."""
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise from_validation_error(exc, lambda loc: mig_path(type(self), loc)) from None

    # Keep pydantic-core validating nested models itself (so error locations stay complete);
    # only explicit construction goes through the wrapper above.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        """Validate a plain mapping (snake_case keys, nested mappings/lists); ``InvalidInput`` on failure."""
        return validate(cls, data)


class MessageModel(MigModel):
    """A root element: one complete MIG message (``_base.MigMessage`` adds its XML)."""

    message_type: ClassVar[MessageType]


def pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """How one model field maps to XML."""

    name: str
    tag: str
    kind: Literal["scalar", "model", "list"]
    model: type[MigModel] | None
    required: bool


def _model_in(annotation: Any) -> tuple[type[MigModel] | None, bool]:
    """The MigModel a field annotation refers to (directly, optionally or as ``list[...]``)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _model_in(typing.get_args(annotation)[0])
    if origin in (list, tuple):  # list[X] or tuple[X, ...]
        inner, _ = _model_in(typing.get_args(annotation)[0])
        return inner, True
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            inner, is_list = _model_in(arg)
            if inner is not None:
                return inner, is_list
        return None, False
    if isinstance(annotation, type) and issubclass(annotation, MigModel):
        return annotation, False
    return None, False


@cache
def field_specs(cls: type[MigModel]) -> tuple[FieldSpec, ...]:
    """The fields of ``cls`` in declaration (= XSD sequence) order."""
    specs: list[FieldSpec] = []
    for name, info in cls.model_fields.items():
        model, is_list = _model_in(info.annotation)
        kind: Literal["scalar", "model", "list"] = "scalar" if model is None else ("list" if is_list else "model")
        tag = cls.mig_names.get(name) or pascal(name)
        specs.append(FieldSpec(name, tag, kind, model, info.is_required()))
    return tuple(specs)


def mig_path(cls: type[MigModel], loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic error location into the MIG element path.

    ``('details', 3, 'description')`` -> ``Details.ProductItem[3].Description``. List indexes are
    0-based (the position in the Python list, the same as ``items[2]`` in domain errors).
    """
    parts: list[str] = []
    current: type[MigModel] | None = cls
    pending_list: FieldSpec | None = None
    for step in loc:
        if isinstance(step, int):
            if pending_list is not None and pending_list.model is not None:
                parts[-1] = f"{parts[-1]}.{pending_list.model.mig_tag}[{step}]"
                current = pending_list.model
            else:
                parts[-1] = f"{parts[-1]}[{step}]"
            pending_list = None
            continue
        pending_list = None
        spec = None
        if current is not None:
            spec = next((s for s in field_specs(current) if s.name == step), None)
        if spec is None:
            parts.append(str(step))
            current = None
            continue
        parts.append(spec.tag)
        if spec.kind == "list":
            pending_list = spec
            current = None
        else:
            current = spec.model
    if pending_list is not None and pending_list.model is not None:
        parts[-1] = f"{parts[-1]}.{pending_list.model.mig_tag}"
    return ".".join(parts)


def validate(cls: type[M], values: Any) -> M:
    """``cls.model_validate`` with pydantic errors turned into ``InvalidInput`` with MIG paths."""
    try:
        return cls.model_validate(values)
    except ValidationError as exc:
        raise from_validation_error(exc, lambda loc: mig_path(cls, loc)) from None
