"""MIG 4.1 message models, XML builders and hardened parsers (reference §2).

Usage::

    xml = build_xml(invoice)                       # bytes, UTF-8, with XML declaration
    again = parse_xml(MessageType.F0401, xml)      # == invoice
    records = parse_e0501(data) / parse_allocation_csv(data)

Every failure (limits, patterns, XML structure, XXE) raises
``chalicelib.domain.errors.InvalidInput`` with a stable ``MIG_*`` code and ``field`` = the MIG path
(``Main.Buyer.Name``, ``Details.ProductItem[3].Description``; list indexes are 0-based).
"""

from __future__ import annotations

from chalicelib.documents.mig import _errors as errors
from chalicelib.documents.mig._base import MIG_VERSION, MessageType, MigMessage, MigModel, namespace_for
from chalicelib.documents.mig._errors import MESSAGE_TYPE, invalid
from chalicelib.documents.mig._types import TAX_RATES, render_decimal
from chalicelib.documents.mig._xml import build_message, parse_message
from chalicelib.documents.mig.allocation import (
    AllocationRecord,
    parse_allocation_csv,
    parse_e0501,
    period_from_range,
)
from chalicelib.documents.mig.allowance import (
    Allowance,
    AllowanceAmount,
    AllowanceMain,
    AllowanceProductItem,
    CancelAllowance,
    VoidAllowance,
)
from chalicelib.documents.mig.cancel_void import CancelInvoice, VoidInvoice
from chalicelib.documents.mig.envelope import Envelope, Party, build_envelope, parse_envelope
from chalicelib.documents.mig.exchange import (
    EXCHANGE_MESSAGES,
    AllowanceConfirm,
    CancelAllowanceConfirm,
    CancelInvoiceConfirm,
    ExchangeAllowance,
    ExchangeCancelAllowance,
    ExchangeCancelInvoice,
    ExchangeInvoice,
    InvoiceConfirm,
    RejectInvoice,
    RejectInvoiceConfirm,
)
from chalicelib.documents.mig.invoice import Invoice, InvoiceAmount, InvoiceMain, InvoiceProductItem
from chalicelib.documents.mig.lottery import Award, AwardMain, AwardSeller, PrizeInvoice, parse_e0504
from chalicelib.documents.mig.purchases import CURRENT_STATUS, InputAllowance, InputInvoice
from chalicelib.documents.mig.roles import Buyer, Seller
from chalicelib.documents.mig.track import (
    BranchTrack,
    BranchTrackBlank,
    BranchTrackBlankItem,
    BranchTrackBlankMain,
    BranchTrackItem,
    BranchTrackMain,
)

#: The root model class of each message type.
MESSAGE_CLASSES: dict[MessageType, type[MigMessage]] = {
    MessageType.F0401: Invoice,
    MessageType.F0501: CancelInvoice,
    MessageType.F0701: VoidInvoice,
    MessageType.G0401: Allowance,
    MessageType.G0501: CancelAllowance,
    MessageType.G0701: VoidAllowance,
    MessageType.E0401: BranchTrack,
    MessageType.E0402: BranchTrackBlank,
    MessageType.E0504: Award,
    MessageType.E0502: InputInvoice,
    MessageType.E0503: InputAllowance,
    **EXCHANGE_MESSAGES,
}


def message_class(message_type: MessageType | str) -> type[MigMessage]:
    """The model class of ``message_type`` (``"F0401"`` or ``MessageType.F0401``)."""
    try:
        return MESSAGE_CLASSES[MessageType(message_type)]
    except ValueError:
        known = ", ".join(MESSAGE_CLASSES)
        raise invalid(
            MESSAGE_TYPE,
            None,
            f"unknown MIG message type {message_type!r} (known: {known})",
            f"未知的 MIG 訊息類型 {message_type!r}（可用：{known}）",
        ) from None


def build_xml(message: MigMessage) -> bytes:
    """Serialise a message model into MIG 4.1 XML (UTF-8 bytes, XML declaration included)."""
    return build_message(message)


def parse_xml(message_type: MessageType | str, data: bytes) -> MigMessage:
    """Parse MIG 4.1 XML of the given type back into its model (hardened parser, no DTDs)."""
    return parse_message(message_class(message_type), data)


__all__ = [
    "CURRENT_STATUS",
    "MESSAGE_CLASSES",
    "MIG_VERSION",
    "TAX_RATES",
    "AllocationRecord",
    "Allowance",
    "AllowanceAmount",
    "AllowanceConfirm",
    "AllowanceMain",
    "AllowanceProductItem",
    "Award",
    "AwardMain",
    "AwardSeller",
    "BranchTrack",
    "BranchTrackBlank",
    "BranchTrackBlankItem",
    "BranchTrackBlankMain",
    "BranchTrackItem",
    "BranchTrackMain",
    "Buyer",
    "CancelAllowance",
    "CancelAllowanceConfirm",
    "CancelInvoice",
    "CancelInvoiceConfirm",
    "Envelope",
    "ExchangeAllowance",
    "ExchangeCancelAllowance",
    "ExchangeCancelInvoice",
    "ExchangeInvoice",
    "InputAllowance",
    "InputInvoice",
    "Invoice",
    "InvoiceAmount",
    "InvoiceConfirm",
    "InvoiceMain",
    "InvoiceProductItem",
    "MessageType",
    "MigMessage",
    "MigModel",
    "Party",
    "PrizeInvoice",
    "RejectInvoice",
    "RejectInvoiceConfirm",
    "Seller",
    "VoidAllowance",
    "VoidInvoice",
    "build_envelope",
    "build_xml",
    "errors",
    "message_class",
    "namespace_for",
    "parse_allocation_csv",
    "parse_e0501",
    "parse_e0504",
    "parse_envelope",
    "parse_xml",
    "period_from_range",
    "render_decimal",
]
