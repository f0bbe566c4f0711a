"""Reading untrusted XML: hardened against DTDs, entities and network access."""

from __future__ import annotations

import re
from typing import Any, cast

from lxml import etree

from chalicelib.documents.mig._errors import XML_FORBIDDEN, XML_MALFORMED, invalid

_FORBIDDEN_MARKUP = re.compile(rb"<!(?:DOCTYPE|ENTITY)")


def _parser() -> Any:
    # A fresh parser per call (lxml parsers are not thread-safe). No DTD loading, no entity
    # expansion, no network, default size limits; comments and processing instructions dropped.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_document(data: bytes) -> Any:
    """Parse untrusted XML bytes; refuse DTDs and entity declarations/references (XXE, bombs)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise invalid(XML_MALFORMED, None, "XML input must be bytes", "XML 輸入必須為位元組 (bytes)")
    raw = bytes(data)
    if _FORBIDDEN_MARKUP.search(raw):
        raise invalid(
            XML_FORBIDDEN,
            "DOCTYPE",
            "DTDs and entity declarations are not accepted",
            "不接受 DTD 或實體 (ENTITY) 宣告",
        )
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        raise invalid(XML_MALFORMED, None, f"not well-formed XML ({exc})", f"XML 格式錯誤（{exc}）") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or next(root.iter(etree.Entity), None) is not None:
        # Reached only by encodings the byte scan above cannot see (e.g. UTF-16).
        raise invalid(
            XML_FORBIDDEN,
            "DOCTYPE",
            "DTDs and entity declarations are not accepted",
            "不接受 DTD 或實體 (ENTITY) 宣告",
        )
    return root


def local_name(element: Any) -> str:
    return cast(str, etree.QName(element).localname)


def namespace_of(element: Any) -> str | None:
    return cast("str | None", etree.QName(element).namespace)
