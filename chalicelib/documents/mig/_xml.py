"""Hardened XML parsing and the model-driven MIG writer/reader shared by every message."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, TypeVar, cast

from lxml import etree

from chalicelib.documents.mig._errors import (
    FIELD_ORDER,
    FIELD_TYPE,
    FIELD_UNKNOWN,
    MESSAGE_TYPE,
    XML_MALFORMED,
    XML_NAMESPACE,
    XML_ROOT,
    invalid,
)
from chalicelib.documents.mig._model import FieldSpec, MessageModel, MigModel, field_specs, validate
from chalicelib.documents.mig._parsing import local_name, namespace_of, parse_document
from chalicelib.documents.mig._types import render_decimal

M = TypeVar("M", bound=MigModel)
Msg = TypeVar("Msg", bound=MessageModel)

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _check_no_text(text: str | None, path: str) -> None:
    if text and text.strip():
        raise invalid(
            XML_MALFORMED,
            path or None,
            "text is not allowed between elements here",
            "此處的元素之間不得有文字",
        )


def _read_model(element: Any, cls: type[MigModel], ns: str, path: str) -> dict[str, Any]:
    """Collect the children of ``element`` as raw values for ``cls``: each at most once, and in
    field order only where the XSD has a sequence (``mig_ordered``)."""
    specs = field_specs(cls)
    by_tag = {spec.tag: (index, spec) for index, spec in enumerate(specs)}
    values: dict[str, Any] = {}
    seen: set[int] = set()
    last = -1
    _check_no_text(element.text, path)
    for child in element:
        if not isinstance(child.tag, str):  # pragma: no cover - comments/PIs are removed by the parser
            continue
        name = local_name(child)
        child_path = _join(path, name)
        _check_no_text(child.tail, path)
        if namespace_of(child) != ns:
            raise invalid(
                XML_NAMESPACE,
                child_path,
                f"must be in namespace {ns}",
                f"必須位於命名空間 {ns}",
            )
        found = by_tag.get(name)
        if found is None:
            raise invalid(FIELD_UNKNOWN, child_path, "is not an element of this message", "不是此訊息的欄位")
        index, spec = found
        if index in seen:
            raise invalid(FIELD_ORDER, child_path, "appears more than once", "重複出現")
        if cls.mig_ordered and index <= last:
            order = ", ".join(s.tag for s in specs)
            raise invalid(
                FIELD_ORDER,
                child_path,
                f"is out of order or repeated; the order is {order}",
                f"順序錯誤或重複出現；正確順序為 {order}",
            )
        last = index
        seen.add(index)
        value = _read_value(child, spec, ns, child_path)
        if value is not None:  # <X/> counts as absent: None for optional, REQUIRED for mandatory
            values[spec.name] = value
    return values


def _read_value(element: Any, spec: FieldSpec, ns: str, path: str) -> Any:
    if spec.kind == "scalar":
        if len(element):
            raise invalid(FIELD_TYPE, path, "must hold text, not elements", "必須為文字內容，不得包含子元素")
        return element.text
    if spec.model is None:  # pragma: no cover - field_specs sets a model for these kinds
        raise TypeError(spec.name)
    if spec.kind == "model":
        return _read_model(element, spec.model, ns, path)
    items: list[dict[str, Any]] = []
    item_tag = spec.model.mig_tag
    _check_no_text(element.text, path)
    for index, item in enumerate(element):
        item_path = f"{path}.{local_name(item)}[{index}]"
        _check_no_text(item.tail, path)
        if local_name(item) != item_tag or namespace_of(item) != ns:
            raise invalid(
                FIELD_UNKNOWN,
                item_path,
                f"only {item_tag} elements are allowed here",
                f"此處只能有 {item_tag} 元素",
            )
        items.append(_read_model(item, spec.model, ns, f"{path}.{item_tag}[{index}]"))
    return items


def parse_message(cls: type[Msg], data: bytes) -> Msg:
    """Parse a complete message of type ``cls`` (default or prefixed namespace both accepted)."""
    return parse_element(cls, parse_document(data))


def parse_element(cls: type[Msg], root: Any) -> Msg:
    """Read an already parsed root element (a whole document's, or one inside an envelope)."""
    expected_ns = cls.message_type.namespace
    name = local_name(root)
    if name != cls.mig_tag:
        raise invalid(
            XML_ROOT,
            name,
            f"root element must be {cls.mig_tag} for {cls.message_type}",
            f"{cls.message_type} 的根元素必須為 {cls.mig_tag}",
        )
    found_ns = namespace_of(root)
    if found_ns != expected_ns:
        raise invalid(
            XML_NAMESPACE,
            name,
            f"namespace must be {expected_ns}, found {found_ns or 'none'}",
            f"命名空間必須為 {expected_ns}，實際為 {found_ns or '無'}",
        )
    return validate(cls, _read_model(root, cls, expected_ns, ""))


# --- writing ------------------------------------------------------------------------------------


def _render(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return render_decimal(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return f"{value.year:04d}{value.month:02d}{value.day:02d}"
    if isinstance(value, dt.time):
        return f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    raise TypeError(f"cannot render {type(value).__name__} into MIG XML")  # pragma: no cover


def _write_model(parent: Any, model: MigModel, ns: str) -> None:
    for spec in field_specs(type(model)):
        value = getattr(model, spec.name)
        if value is None:
            continue  # optional element left out
        element = etree.SubElement(parent, f"{{{ns}}}{spec.tag}")
        if spec.kind == "scalar":
            element.text = _render(value)
        elif spec.kind == "model":
            _write_model(element, value, ns)
        else:
            for item in value:
                _write_model(etree.SubElement(element, f"{{{ns}}}{item.mig_tag}"), item, ns)


def build_message(message: MessageModel) -> bytes:
    """Validate ``message`` again (it may come from ``model_construct``) and serialise it."""
    return XML_DECLARATION + cast(bytes, etree.tostring(message_element(message), encoding="UTF-8"))


def message_element(message: MessageModel) -> Any:
    """The message's root element, checked against its official schema (an envelope packs several)."""
    if not isinstance(message, MessageModel):
        raise invalid(
            MESSAGE_TYPE,
            None,
            f"not a MIG message model: {type(message).__name__}",
            f"不是 MIG 訊息模型：{type(message).__name__}",
        )
    cls = type(message)
    checked = validate(cls, message.model_dump(warnings=False))
    ns = cls.message_type.namespace
    root = etree.Element(f"{{{ns}}}{cls.mig_tag}", nsmap={None: ns})
    _write_model(root, checked, ns)
    # Nothing leaves that the MOF's own schema would refuse (the models mirror it; this proves it).
    from chalicelib.documents.mig.schema import check

    check(str(cls.message_type), root)
    return root
