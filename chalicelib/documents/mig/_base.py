"""The base classes of the MIG 4.1 message models: ``MigModel`` (one element) and ``MigMessage``
(a root element, with its XML both ways)."""

from __future__ import annotations

from typing import Self

from chalicelib.documents.mig._model import (
    MIG_VERSION,
    FieldSpec,
    MessageModel,
    MessageType,
    MigModel,
    field_specs,
    mig_path,
    namespace_for,
    pascal,
)
from chalicelib.documents.mig._xml import build_message, parse_message

__all__ = [
    "MIG_VERSION",
    "FieldSpec",
    "MessageType",
    "MigMessage",
    "MigModel",
    "field_specs",
    "mig_path",
    "namespace_for",
    "pascal",
]


class MigMessage(MessageModel):
    """A root element: one complete MIG message, to and from XML."""

    def to_xml(self) -> bytes:
        """The message as UTF-8 XML bytes; limits are checked again before anything is written."""
        return build_message(self)

    @classmethod
    def from_xml(cls, data: bytes) -> Self:
        """Parse (hardened) and validate a message of exactly this type."""
        return parse_message(cls, data)
