"""Validation against the MOF's official MIG 4.1 XSDs (財政部 MIG 4.1 結構描述), vendored in ``xsd/``.

Every message the platform writes is checked by the tests against these schemas; every message it
accepts (``/v1/mig/*``, the E0501 配號檔 import) is checked here before it is read. A failure is
``InvalidInput`` naming the element, its path and its line, with one of two codes that the API maps
to the official result codes: ``MIG_SCHEMA_FORMAT`` → E0304 「XML原文格式不符」 (an element missing,
unexpected or repeated) and ``MIG_SCHEMA_CONTENT`` → E0305 「XML原文資料內容檢核失敗」 (a value
outside its type, length, pattern or list).
"""

from __future__ import annotations

import copy
import re
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from chalicelib.documents.mig._errors import invalid
from chalicelib.documents.mig._parsing import local_name, parse_document

SCHEMA_FORMAT = "MIG_SCHEMA_FORMAT"
SCHEMA_CONTENT = "MIG_SCHEMA_CONTENT"

XSD_DIR = Path(__file__).parent / "xsd"
E0501_NAMESPACE = "urn:GEINV:E0501:4.0"

#: The schema file of each message type (paths inside ``xsd/``, the MOF's own folder layout).
SCHEMA_FILES: dict[str, str] = {
    **{
        t: f"v41/{t}.xsd"
        for t in (
            *("F0401", "F0501", "F0701", "G0401", "G0501", "G0701", "E0401", "E0402"),
            *("A0101", "A0102", "A0201", "A0202", "A0301", "A0302"),
            *("B0101", "B0102", "B0201", "B0202"),
        )
    },
    "E0501": "common/v40/E0501.xsd",
    "E0502": "common/v41/E0502.xsd",
    "E0503": "common/v41/E0503.xsd",
    "E0504": "common/v40/E0504.xsd",
    # The Turnkey envelope of a list of many messages (E0502/E0503 downloads).
    "InvoiceEnvelope": "common/v41/InvoiceEnvelope.xsd",
}

# libxml2's structural errors (what is where); every other validity error is about a value.
_FORMAT_ERRORS = frozenset(
    {
        "SCHEMAV_ELEMENT_CONTENT",
        "SCHEMAV_CVC_ELT_1",
        "SCHEMAV_CVC_COMPLEX_TYPE_2_1",
        "SCHEMAV_CVC_COMPLEX_TYPE_2_3",
        "SCHEMAV_CVC_COMPLEX_TYPE_2_4",
        "SCHEMAV_CVC_COMPLEX_TYPE_3_2_1",
        "SCHEMAV_CVC_COMPLEX_TYPE_3_2_2",
        "SCHEMAV_CVC_COMPLEX_TYPE_4",
    }
)
_ELEMENT = re.compile(r"Element '(?:\{[^}]*\})?([^']+)'")


@cache
def schema_for(message_type: str) -> Any:
    """The compiled schema of ``message_type``: compiled once per container, then shared.

    E0401.xsd and E0402.xsd declare ``" BranchBan"`` and ``" InvoiceBeginNo"`` with a leading space
    (in every MOF version); libxml2 would then refuse correct documents, so every ``name`` is
    stripped before compiling (see xsd/README.md).
    """
    path = XSD_DIR / SCHEMA_FILES[message_type]
    document = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    for element in document.iter():
        name = element.get("name") if isinstance(element.tag, str) else None
        if name is not None and name != name.strip():
            element.set("name", name.strip())
    return etree.XMLSchema(document)


def _path_of(element: Any) -> str:
    """``Main.Buyer.Identifier``: the MIG path below the root, as the other MIG errors name it."""
    names = [local_name(e) for e in reversed(list(element.iterancestors())) if isinstance(e.tag, str)]
    return ".".join([*names[1:], local_name(element)])


def _element_at(root: Any, line: int, name: str | None) -> Any:
    for element in root.iter():
        if (
            isinstance(element.tag, str)
            and element.sourceline == line
            and (name is None or local_name(element) == name)
        ):
            return element
    return None


def check(message_type: str, root: Any, *, prefix: str = "") -> None:
    """Refuse ``root`` (a parsed element) if it does not validate against the official schema."""
    schema = schema_for(message_type)
    if schema.validate(root):
        return
    error = schema.error_log[0]
    match = _ELEMENT.search(error.message)
    name = match.group(1) if match else None
    element = _element_at(root, error.line, name)
    path = _path_of(element) if element is not None else (name or local_name(root))
    if prefix:
        path = f"{prefix}.{path}" if path != local_name(root) else prefix
    line = error.line
    if error.type_name in _FORMAT_ERRORS:
        code, zh = SCHEMA_FORMAT, "元素缺少、多出、重複或不在此處（XML原文格式不符）"
    else:
        code, zh = SCHEMA_CONTENT, "內容不符合官方規定的型別、長度、樣式或允許值（XML原文資料內容檢核失敗）"
    detail = error.message.split(": ", 1)[1] if ": " in error.message else error.message
    raise invalid(
        code,
        path,
        f"line {line}: does not conform to the MIG 4.1 {message_type} schema: {detail}",
        f"第 {line} 行：不符合財政部 MIG 4.1 {message_type} 結構描述：{zh}",
    )


def check_message(message_type: str, data: bytes) -> None:
    """Validate a whole incoming message (hardened parse first: no DTDs, no entities)."""
    check(str(message_type), parse_document(data))


def check_e0501(data: bytes) -> None:
    """Validate every ``InvoiceAssignNo`` of an E0501 file (bare, or inside a Turnkey envelope).

    Downloads carry ``urn:GEINV:E0501:4.0`` (the XSD's namespace), another E0501 version or none;
    the content is what matters, so each record is checked in the XSD's namespace.
    """
    root = parse_document(data)
    records = [root] if local_name(root) == "InvoiceAssignNo" else list(root.iter("{*}InvoiceAssignNo"))
    for index, record in enumerate(records):
        item = copy.deepcopy(record)
        for element in item.iter():
            if isinstance(element.tag, str):
                element.tag = f"{{{E0501_NAMESPACE}}}{local_name(element)}"
        etree.cleanup_namespaces(item)
        check("E0501", item, prefix=f"InvoiceAssignNo[{index}]")
