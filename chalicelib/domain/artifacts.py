"""The documents kept for an invoice or allowance (MIG XML, proof and A4 PDFs): their kinds, and
the file name and content type each is stored and downloaded as."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ArtifactKind(StrEnum):
    XML = "xml"
    PROOF_PDF = "proof_pdf"
    A4_PDF = "a4_pdf"
    F0501_XML = "f0501_xml"  # 作廢 (cancel)
    F0701_XML = "f0701_xml"  # 註銷 (void), before the re-issued F0401
    A0101_XML = "a0101_xml"  # an exchanged (交換) B2B invoice: its A0101 instead of an F0401
    # Allowances (折讓): under merchants/<ubn>/allowances/..., see artifact_key.
    G0401_XML = "g0401_xml"
    G0501_XML = "g0501_xml"  # 作廢折讓 (cancel)
    G0701_XML = "g0701_xml"  # 註銷折讓 (void), before the re-issued G0401
    ALLOWANCE_PDF = "allowance_pdf"
    # A winning invoice's proof (中獎), printed for the winner of a member-carrier invoice.
    WINNING_PROOF_PDF = "winning_proof_pdf"


ALLOWANCE_KINDS = frozenset(
    {ArtifactKind.G0401_XML, ArtifactKind.G0501_XML, ArtifactKind.G0701_XML, ArtifactKind.ALLOWANCE_PDF}
)


@dataclass(frozen=True)
class Format:
    file_name: str
    content_type: str


FORMATS = {
    ArtifactKind.XML: Format("F0401.xml", "application/xml"),
    ArtifactKind.PROOF_PDF: Format("proof.pdf", "application/pdf"),
    ArtifactKind.A4_PDF: Format("a4.pdf", "application/pdf"),
    ArtifactKind.F0501_XML: Format("F0501.xml", "application/xml"),
    ArtifactKind.F0701_XML: Format("F0701.xml", "application/xml"),
    ArtifactKind.A0101_XML: Format("A0101.xml", "application/xml"),
    # The names the allowances' best-effort writer used, so objects stored before the outbox stay valid.
    ArtifactKind.G0401_XML: Format("G0401.xml", "application/xml"),
    ArtifactKind.G0501_XML: Format("G0501.xml", "application/xml"),
    ArtifactKind.G0701_XML: Format("G0701.xml", "application/xml"),
    ArtifactKind.ALLOWANCE_PDF: Format("allowance.pdf", "application/pdf"),
    ArtifactKind.WINNING_PROOF_PDF: Format("winning-proof.pdf", "application/pdf"),
}


def download_name(number: str, kind: ArtifactKind) -> str:
    """What a browser saves the file as: ``AB12345678-proof.pdf``, ``AB12345678-F0401.xml``."""
    return f"{number}-{FORMATS[kind].file_name}"
