"""After issuing: cancel (作廢, F0501), void and re-issue (註銷重開, F0701 + F0401), and re-send.

Each change is one DynamoDB transaction: the invoice (conditional on the state it was read in, so
two concurrent requests cannot both win), the period's running totals, and an outbox item listing
the documents and mail still to produce. As with issuing, the outbox does the slow work afterwards,
and an outage there only delays it.

Rules (reference §1.6, domain/status.py):

- A cancelled number is never reused: the invoice simply stays ``cancelled``.
- Cancelling after the period's filing deadline needs the tax office's approval number (專案作廢).
- A void keeps the number, date and time, and gets a new random number; it is allowed only within
  48 h and in the same period (the safe reading of an unverified rule). The re-issued invoice is
  ``issued`` again; the history keeps the voided version (random number, buyer, carrier).
- Neither is possible while allowances (折讓) reduce the invoice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from chalicelib.documents.codes import QrItem
from chalicelib.domain.amounts import AmountBlock
from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import Conflict, NotFound, RuleViolation
from chalicelib.domain.invoice import ValidatedDraft, parse_draft, validate_draft
from chalicelib.domain.invoice_record import Amounts, HistoryEntry, InvoiceRecord
from chalicelib.domain.merchant import MerchantSettings
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.random_number import new_random_number
from chalicelib.domain.status import InvoiceStatus, ensure_can_cancel, ensure_can_void
from chalicelib.domain.working_days import WEEKDAYS, WorkingCalendar
from chalicelib.domain.writes import (
    AddToTotals,
    AppendHistory,
    CancelInvoice,
    Contended,
    Intent,
    PutOutboxItem,
    Refused,
    ReplaceInvoice,
    RequireUnfiled,
)
from chalicelib.services.exchange import ensure_storage_invoice
from chalicelib.services.filed_periods import ensure_not_filed
from chalicelib.services.invoice_building import difference, invoice_codes, negated, purchase_intents, totals_changes
from chalicelib.services.ports import FiledPeriods, MerchantStore, UnitOfWork

#: What a re-issue may correct (API.md ``replacement``); everything else stays as issued.
REPLACEABLE = ("buyer", "carrier", "donation_code", "print")


@dataclass(frozen=True)
class Recipients:
    channels: tuple[str, ...]
    email: str | None = None
    mobile: str | None = None


class InvoiceLifecycleService:
    def __init__(
        self,
        *,
        invoices: ChangeableInvoices,
        merchants: MerchantStore,
        ledger: UnitOfWork,
        filed: FiledPeriods,
        clock: Clock,
        calendar: WorkingCalendar = WEEKDAYS,
    ) -> None:
        self._calendar = calendar  # the cancel deadline moves off a day off with the filing deadline
        self._invoices = invoices
        self._merchants = merchants
        self._ledger = ledger
        self._filed = filed
        self._clock = clock

    # --- cancel (作廢) ------------------------------------------------------------------------------

    def cancel(
        self,
        ubn: str,
        number: str,
        *,
        reason: str,
        actor: str,
        return_tax_document_number: str | None = None,
        remark: str | None = None,
    ) -> InvoiceRecord:
        record = self._issued(ubn, number)
        now = self._now()
        ensure_can_cancel(
            Period.parse(record.period),
            now.date(),
            return_tax_document_number=return_tax_document_number,
            calendar=self._calendar,
        )
        if not return_tax_document_number:
            ensure_not_filed(self._filed, ubn, record.period)
        cancellation = {
            "reason": reason,
            "return_tax_document_number": return_tax_document_number,
            "remark": remark,
            "cancelled_at": now.isoformat(),
        }
        detail = {k: v for k, v in cancellation.items() if v is not None and k != "cancelled_at"}
        entry = HistoryEntry(at=now.isoformat(), event="cancelled", actor=actor, detail=detail)
        settings = self._settings(ubn)
        email = "pending" if record.buyer.get("email") and settings.email_buyer else "skipped"
        created = now.isoformat()
        steps = {"f0501_xml": "pending", "proof_pdf": "pending", "a4_pdf": "pending", "email": email}
        intents: list[Intent] = [
            CancelInvoice(ubn, number, cancellation, entry),
            # The cancelled invoice leaves the period's sales; the count of cancellations is kept
            # for the return's attachment list.
            AddToTotals(
                ubn, record.period, record.invoice_type, {**negated(totals_changes(record)), "cancelled_count": 1}
            ),
            *purchase_intents(record, None),
            *([] if return_tax_document_number else [RequireUnfiled(ubn, record.period)]),
            # The PDFs are rendered again under the same keys: a download now shows the 作廢 mark.
            PutOutboxItem(ubn, number, "cancelled", steps, created),
        ]
        self._commit(intents)
        return record.model_copy(
            update={
                "status": InvoiceStatus.CANCELLED.value,
                "cancellation": cancellation,
                "history": [*record.history, entry],
            }
        )

    # --- void and re-issue (註銷重開) -----------------------------------------------------------------

    def void(
        self,
        ubn: str,
        number: str,
        *,
        reason: str,
        replacement: Mapping[str, Any],
        actor: str,
        remark: str | None = None,
        random_number: str | None = None,
    ) -> InvoiceRecord:
        """``random_number``: the one the replacement F0401 (MIG XML) already printed; new if absent."""
        record = self._issued(ubn, number)
        now = self._now()
        ensure_can_void(record.issued_at, now)
        settings = self._settings(ubn)
        if not settings.qr_aes_key:
            raise RuleViolation(
                "QR_KEY_MISSING",
                "Set your QR-code AES key first (PATCH /v1/merchant settings.qr_aes_key): proofs need it",
                "請先設定 QR Code 加密金鑰（PATCH /v1/merchant 的 settings.qr_aes_key），證明聯需要它",
                "settings.qr_aes_key",
            )
        validated = validate_draft(parse_draft(_corrected(record, replacement)), seller_ubn=ubn)
        voided = HistoryEntry(
            at=now.isoformat(),
            event="voided",
            actor=actor,
            detail={
                k: v
                for k, v in {
                    "reason": reason,
                    "remark": remark,
                    # The version withdrawn by the F0701: its codes and where it went.
                    "random_number": record.random_number,
                    "buyer": record.buyer,
                    "carrier": record.carrier,
                    "donation_code": record.donation_code,
                    "print_mark": record.print_mark,
                    "amounts": record.amounts.model_dump(mode="json"),
                }.items()
                if v is not None
            },
        )
        reissued = _reissued(record, validated, ubn, settings.qr_aes_key, [voided], actor, now, random_number)
        email = "pending" if reissued.buyer.get("email") and settings.email_buyer else "skipped"
        sms = "pending" if reissued.buyer.get("mobile") and settings.sms_buyer else "skipped"
        steps = {
            "f0701_xml": "pending",
            "xml": "pending",
            "proof_pdf": "pending",
            "a4_pdf": "pending",
            "email": email,
            "sms": sms,
        }
        changes = difference(totals_changes(reissued), totals_changes(record))
        intents: list[Intent] = [
            ReplaceInvoice(ubn, reissued, record.random_number, reset_allowable=record.allowance_remaining is not None),
            *([AddToTotals(ubn, record.period, record.invoice_type, changes)] if changes else []),
            *purchase_intents(record, reissued),
            PutOutboxItem(ubn, number, "voided", steps, now.isoformat(), replace=True),
        ]
        self._commit(intents)
        return reissued

    # --- re-send ------------------------------------------------------------------------------------

    def notify(self, ubn: str, number: str, recipients: Recipients, *, actor: str) -> str:
        """Queue the invoice's mail and/or SMS again; returns the outbox event name."""
        record = self._issued(ubn, number)
        now = self._now()
        to = {
            "email": recipients.email or record.buyer.get("email"),
            "sms": recipients.mobile or record.buyer.get("mobile"),
        }
        steps = {step: "pending" for step in recipients.channels if to[step]}
        if not steps:
            raise RuleViolation(
                "NO_RECIPIENT",
                "No address to send to: give email or mobile, or store them on the invoice's buyer.",
                "沒有可寄送的對象：請提供 email 或 mobile，或於發票買受人資料中設定。",
                "channels",
            )
        event = "notify-" + now.strftime("%Y%m%dT%H%M%S%f")
        entry = HistoryEntry(
            at=now.isoformat(), event="notified", actor=actor, detail={"channels": sorted(steps), "outbox": event}
        )
        recipients_item = {step: str(to[step]) for step in steps}
        self._commit(
            [
                AppendHistory(ubn, number, entry),
                PutOutboxItem(ubn, number, event, steps, now.isoformat(), {"recipients": recipients_item}),
            ]
        )
        return event

    # --- helpers ------------------------------------------------------------------------------------

    def _issued(self, ubn: str, number: str) -> InvoiceRecord:
        return changeable_invoice(self._invoices, ubn, number)

    def _now(self) -> datetime:
        # Taiwan time: the cancel deadline and the void window are Taiwan calendar rules.
        return self._clock.now().astimezone(TAIWAN_TZ)

    def _settings(self, ubn: str) -> MerchantSettings:
        profile = self._merchants.profile(ubn)
        return profile.settings if profile is not None else MerchantSettings()

    def _commit(self, intents: list[Intent]) -> None:
        try:
            self._ledger.commit(intents)
        except (Refused, Contended):
            raise Conflict(
                "INVOICE_CHANGED",
                "The invoice changed while this request ran; read it again and retry.",
                "處理期間發票已被變更，請重新讀取後再試。",
                "invoice_number",
            ) from None


_STATUS_ZH = {"issued": "已開立", "cancelled": "已作廢", "voided": "已註銷", "rejected": "已退回"}


class ChangeableInvoices(Protocol):
    def get(self, ubn: str, number: str) -> InvoiceRecord | None: ...


def _draft_data(record: InvoiceRecord, prices_include_tax: bool) -> dict[str, Any]:
    """The request that would issue ``record`` again: the domain's own rules then check a correction."""
    return {
        "buyer": record.buyer,
        "carrier": record.carrier,
        "donation_code": record.donation_code,
        "print": record.print_mark,
        "items": [
            {
                k: v
                for k, v in item.model_dump(
                    include={"description", "quantity", "unit", "unit_price", "tax_type", "remark"}
                ).items()
                if v is not None
            }
            for item in record.items
        ],
        "prices_include_tax": prices_include_tax,
        "invoice_type": record.invoice_type,
        "special_tax_rate": record.special_tax_rate,
        "customs_clearance_mark": record.customs_clearance_mark,
        "zero_tax_rate_reason": record.zero_tax_rate_reason,
        "order_id": record.order_id,
        "main_remark": record.main_remark,
    }


def _prices_include_tax(record: InvoiceRecord) -> bool:
    """As issued; for invoices stored before it was kept, the reading whose amounts match the stored ones."""
    if record.prices_include_tax is not None:
        return record.prices_include_tax
    for candidate in (True, False):
        amounts = validate_draft(parse_draft(_draft_data(record, candidate)), seller_ubn=record.seller["ubn"]).amounts
        if _same(amounts, record.amounts):
            return candidate
    return True


def _same(block: AmountBlock, stored: Amounts) -> bool:
    return Amounts.model_validate(block.model_dump(mode="json")) == stored


def _corrected(record: InvoiceRecord, replacement: Mapping[str, Any]) -> dict[str, Any]:
    data = _draft_data(record, _prices_include_tax(record))
    for name in REPLACEABLE:
        if name in replacement:
            data[name] = replacement[name]
    return data


def _reissued(
    record: InvoiceRecord,
    validated: ValidatedDraft,
    ubn: str,
    qr_key: str,
    voided: list[HistoryEntry],
    actor: str,
    now: datetime,
    kept_random_number: str | None = None,
) -> InvoiceRecord:
    """The corrected invoice: same number, date and time; new random number and codes."""
    draft = validated.draft
    amounts = validated.amounts
    random_number = kept_random_number or _new_random(record.random_number)
    codes = invoice_codes(
        period=record.period,
        number=record.invoice_number,
        invoice_date=record.invoice_date,
        random_number=random_number,
        tax_exclusive_sales_amount=amounts.tax_exclusive_sales_amount,
        zero_tax_sales_amount=amounts.zero_tax_sales_amount,
        free_tax_sales_amount=amounts.free_tax_sales_amount,
        total_amount=amounts.total_amount,
        seller_ubn=ubn,
        buyer_ubn=draft.buyer.ubn,
        items=tuple(QrItem(i.description, Decimal(i.quantity), Decimal(i.unit_price)) for i in record.items),
        qr_key=qr_key,
    )
    reissued_entry = HistoryEntry(
        at=now.isoformat(), event="reissued", actor=actor, detail={"random_number": random_number}
    )
    return record.model_copy(
        update={
            "random_number": random_number,
            "buyer": draft.buyer.model_dump(mode="json"),
            "carrier": draft.carrier.model_dump(mode="json", exclude_none=True) if draft.carrier else None,
            "donation_code": draft.donation_code,
            "print_mark": draft.print_proof,
            "prices_include_tax": draft.prices_include_tax,
            "amounts": Amounts.model_validate(amounts.model_dump(mode="json")),
            "tax_exclusive_sales_amount": amounts.tax_exclusive_sales_amount,
            "output_tax_amount": amounts.output_tax_amount,
            "status": InvoiceStatus.ISSUED.value,
            "barcode": codes.barcode,
            "qr_left": codes.qr_left,
            "qr_right": codes.qr_right,
            "history": [*record.history, *voided, reissued_entry],
            "void_count": record.void_count + 1,
            "warnings": [
                {"code": w.code, "message": w.message, "message_zh": w.message_zh, "field": w.field}
                for w in validated.warnings
            ],
        }
    )


def _new_random(old: str) -> str:
    """A new random number (隨機碼) that differs from the voided one, so the two versions never share codes."""
    while True:
        candidate = new_random_number()
        if candidate != old:
            return candidate


def changeable_invoice(
    invoices: ChangeableInvoices, ubn: str, number: str, field: str = "invoice_number"
) -> InvoiceRecord:
    """The invoice if it may still be cancelled or voided: issued, and no allowance in force.
    Shared by the JSON routes and the MIG intake, which names ``field``."""
    record = invoices.get(ubn, number)
    if record is None:
        raise NotFound("INVOICE_NOT_FOUND", "No such invoice", "查無此發票", field)
    ensure_storage_invoice(record, field)
    if record.status != InvoiceStatus.ISSUED.value:
        raise Conflict(
            "INVOICE_NOT_ISSUED",
            f"Only an issued invoice can be changed; this one is {record.status}.",
            f"僅已開立的發票可執行此操作；此發票狀態為「{_STATUS_ZH.get(record.status, record.status)}」。",
            field,
        )
    if record.allowance_count > 0:
        raise Conflict(
            "HAS_ALLOWANCES",
            "The invoice has allowances in force; cancel them first.",
            "此發票尚有有效的折讓單，請先作廢折讓單。",
            field,
        )
    return record
