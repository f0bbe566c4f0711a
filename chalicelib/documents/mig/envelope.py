"""The Turnkey envelope (``InvoiceEnvelope``, ``urn:GEINV:InvoiceEnvelope:4.1``, vendored
``xsd/common/v41/InvoiceEnvelope.xsd``) that carries many messages of one type in one file, as the
MOF's downloads (E0501, E0502, E0503) come: ``From``/``FromVAC``/``To``/``ToVAC`` (a sequence, in that
order), then ``InvoicePack`` with 1-1000 messages and its ``messageType``, ``count`` and ``version``.

The envelope's schema checks its packed messages only "lax" (it imports none of their schemas), so
each message is also checked against its own official schema, on the way out and on the way in.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from lxml import etree

from chalicelib.documents.mig._base import MIG_VERSION, MessageType, MigMessage
from chalicelib.documents.mig._errors import XML_ROOT, invalid
from chalicelib.documents.mig._parsing import local_name, parse_document
from chalicelib.documents.mig._xml import XML_DECLARATION, message_element, parse_element

ENVELOPE_NAMESPACE = "urn:GEINV:InvoiceEnvelope:4.1"
#: InvoicePack's ``xsd:any`` holds 1 to 1000 messages.
MAX_PACKED = 1000
_ENVELOPE = "InvoiceEnvelope"


@dataclass(frozen=True)
class Party:
    """One end of an envelope: ``PartyId`` (From/To) and ``RoutingId`` (FromVAC/ToVAC)."""

    party_id: str
    routing_id: str
    description: str | None = None


@dataclass(frozen=True)
class Envelope:
    sender: Party
    receiver: Party
    message_type: str
    version: str | None
    messages: tuple[MigMessage, ...]


def _party(parent: Any, name: str, id_name: str, value: str, description: str | None) -> None:
    element = etree.SubElement(parent, f"{{{ENVELOPE_NAMESPACE}}}{name}")
    etree.SubElement(element, f"{{{ENVELOPE_NAMESPACE}}}{id_name}").text = value
    if description:
        etree.SubElement(element, f"{{{ENVELOPE_NAMESPACE}}}Description").text = description


def build_envelope(messages: Sequence[MigMessage], *, sender: Party, receiver: Party) -> bytes:
    """1-1000 messages of one type in one envelope (UTF-8, with the XML declaration)."""
    from chalicelib.documents.mig.schema import check

    types = {m.message_type for m in messages}
    if not messages or len(messages) > MAX_PACKED or len(types) != 1:
        raise invalid(
            "MIG_ENVELOPE_SIZE",
            "InvoicePack",
            f"an envelope holds 1 to {MAX_PACKED} messages of one type",
            f"一個信封須裝 1 至 {MAX_PACKED} 筆同類型的訊息",
        )
    message_type = next(iter(types))
    root = etree.Element(f"{{{ENVELOPE_NAMESPACE}}}{_ENVELOPE}", nsmap={None: ENVELOPE_NAMESPACE})
    _party(root, "From", "PartyId", sender.party_id, sender.description)
    _party(root, "FromVAC", "RoutingId", sender.routing_id, None)
    _party(root, "To", "PartyId", receiver.party_id, receiver.description)
    _party(root, "ToVAC", "RoutingId", receiver.routing_id, None)
    pack = etree.SubElement(
        root,
        f"{{{ENVELOPE_NAMESPACE}}}InvoicePack",
        messageType=str(message_type),
        count=str(len(messages)),
        version=MIG_VERSION,
    )
    for message in messages:
        pack.append(message_element(message))  # each checked against its own schema
    check(_ENVELOPE, root)
    return XML_DECLARATION + cast(bytes, etree.tostring(root, encoding="UTF-8"))


def _text_of(root: Any, path: str) -> str:
    found = root.find(path, {"e": ENVELOPE_NAMESPACE})
    return str(found.text or "") if found is not None else ""


def parse_envelope(data: bytes, message_type: MessageType | str) -> Envelope:
    """An envelope of ``message_type`` messages: the envelope and every message validated against
    their official schemas (``MIG_SCHEMA_*`` naming ``InvoicePack.<Root>[i]``), then read."""
    from chalicelib.documents.mig import message_class
    from chalicelib.documents.mig.schema import check

    root = parse_document(data)
    if local_name(root) != _ENVELOPE:
        raise invalid(
            XML_ROOT, local_name(root), "the root element must be InvoiceEnvelope", "根元素必須為 InvoiceEnvelope"
        )
    check(_ENVELOPE, root)
    cls = message_class(message_type)
    pack: Any = root.find("e:InvoicePack", {"e": ENVELOPE_NAMESPACE})  # the schema requires it
    if pack.get("messageType") not in (None, str(cls.message_type)):
        raise invalid(
            XML_ROOT,
            "InvoicePack",
            f"the envelope holds {pack.get('messageType')}, not {cls.message_type}",
            f"此信封裝的是 {pack.get('messageType')}，不是 {cls.message_type}",
        )
    messages = []
    for index, child in enumerate(c for c in pack if isinstance(c.tag, str)):
        alone = copy.deepcopy(child)  # validated as the root of its own document
        check(str(cls.message_type), alone, prefix=f"InvoicePack.{local_name(child)}[{index}]")
        messages.append(parse_element(cls, alone))
    return Envelope(
        sender=Party(_text_of(root, "e:From/e:PartyId"), _text_of(root, "e:FromVAC/e:RoutingId")),
        receiver=Party(_text_of(root, "e:To/e:PartyId"), _text_of(root, "e:ToVAC/e:RoutingId")),
        message_type=str(pack.get("messageType") or cls.message_type),
        version=pack.get("version"),
        messages=tuple(messages),
    )


__all__ = ["ENVELOPE_NAMESPACE", "MAX_PACKED", "Envelope", "Party", "build_envelope", "parse_envelope"]
