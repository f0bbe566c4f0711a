"""Issuing e-invoices: validate, number, and commit everything in one transaction.

One DynamoDB transaction writes the channel's number counter, the invoice, the period's running
totals, the outbox entry (documents and delivery happen from it afterwards), the low-stock notice
when this issue is the one to queue it and, when given, the idempotency record and the order-id
record. So an invoice is never half-written, a number is never lost, and a retry finds the first
invoice instead of making a second one; and nothing after the commit can fail the request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.adapters.dynamo import dynamodb, from_item, get_many, to_item
from chalicelib.adapters.dynamo_invoices import (
    OUTBOX_PENDING,
    DynamoInvoices,
    invoice_item,
    invoices_table,
    outbox_sort_key,
    owner,
)
from chalicelib.adapters.dynamo_merchants import DynamoMerchants
from chalicelib.adapters.dynamo_tracks import ActionRefused, Counter, as_counter
from chalicelib.documents.codes import QrItem
from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import DomainError, InvalidInput, NotFound, RuleViolation
from chalicelib.domain.invoice import InvoiceDraft, ValidatedDraft, parse_draft, validate_draft
from chalicelib.domain.invoice_number import InvoiceNumber
from chalicelib.domain.invoice_record import Amounts, HistoryEntry, InvoiceRecord, RecordItem
from chalicelib.domain.period import Period
from chalicelib.domain.random_number import new_random_number
from chalicelib.services import low_stock
from chalicelib.services.invoice_building import invoice_codes, purchases_actions, totals_changes, totals_update
from chalicelib.services.invoice_view import view
from chalicelib.services.merchant_profile import MerchantSettings
from chalicelib.services.numbering import NumberingService
from chalicelib.settings import get_settings

# Stripe keeps keys at least 24 hours; we keep them two days so a retry the next morning still
# finds the first invoice.
IDEMPOTENCY_TTL = timedelta(hours=48)
MAX_IDEMPOTENCY_KEY = 255


@dataclass(frozen=True)
class Issued:
    record: InvoiceRecord
    replayed: bool

    def body(self) -> dict[str, Any]:
        return view(self.record).model_dump(mode="json")


def request_hash(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class _Unread:
    """Marks a record not read yet (``None`` means read and absent)."""


_UNREAD = _Unread()


def _idempotency_key(idem_id: str) -> tuple[str, dict[str, Any]]:
    return get_settings().idempotency_table, {"id": {"S": idem_id}}


def _reused(field: str, what: str, what_zh: str) -> RuleViolation:
    return RuleViolation(
        "IDEMPOTENCY_KEY_REUSED" if field == "Idempotency-Key" else "ORDER_ID_REUSED",
        f"This {what} was already used for a different invoice; use a new one",
        f"此{what_zh}已用於另一張內容不同的發票，請使用新的值",
        field,
    )


class InvoicingService:
    def __init__(
        self,
        *,
        invoices: DynamoInvoices,
        merchants: DynamoMerchants,
        numbering: NumberingService,
        clock: Clock,
        notify_outbox: Callable[[str, str, str], None] | None = None,
    ) -> None:
        self._invoices = invoices
        self._merchants = merchants
        self._numbering = numbering
        self._clock = clock
        self._notify_outbox = notify_outbox

    def issue(
        self,
        ubn: str,
        body: Mapping[str, Any],
        *,
        channel: str,
        actor: str,
        idempotency_key: str | None = None,
        draft: InvoiceDraft | None = None,
        origin: str | None = None,
    ) -> Issued:
        """Issue ``body`` (``draft`` is ``body`` already validated, when the caller has it).
        ``origin`` (e.g. ``pending:<id>``) is kept on the outbox item: it decides the events reported."""
        fingerprint = request_hash(body)
        idem_id = f"{ubn}#{idempotency_key}" if idempotency_key else None
        if draft is None:
            try:
                draft = parse_draft(body)
            except InvalidInput:
                # A retry is answered with the first invoice even if the rules have changed since.
                replay = self._replay_by_key(ubn, idem_id, fingerprint) if idem_id else None
                if replay is not None:
                    return replay
                raise
        replay, profile, counter = self._read(ubn, channel, draft, idem_id, fingerprint)
        if replay is not None:
            return replay
        if profile is None:
            raise NotFound("MERCHANT_NOT_FOUND", "No such merchant", "查無此營業人")
        settings = MerchantSettings.model_validate(profile.get("settings") or {})
        if not profile.get("address"):
            # MIG F0401 requires the seller's address; an invoice without one could never be uploaded.
            raise RuleViolation(
                "SELLER_ADDRESS_MISSING",
                "Set your business address first (PATCH /v1/merchant address)",
                "請先設定營業地址（PATCH /v1/merchant 的 address）",
                "address",
            )
        if not settings.qr_aes_key:
            raise RuleViolation(
                "QR_KEY_MISSING",
                "Set your QR-code AES key first (PATCH /v1/merchant settings.qr_aes_key): proofs need it",
                "請先設定 QR Code 加密金鑰（PATCH /v1/merchant 的 settings.qr_aes_key），證明聯需要它",
                "settings.qr_aes_key",
            )
        validated = validate_draft(draft, seller_ubn=ubn)
        random_number = new_random_number()
        built: dict[str, InvoiceRecord] = {}

        def actions(number: InvoiceNumber, issued_at: datetime) -> list[dict[str, Any]]:
            record = self._record(
                ubn, profile, validated, number, issued_at, random_number, channel, actor, settings.qr_aes_key or ""
            )
            built["record"] = record
            return self._transaction(ubn, record, settings, idem_id, fingerprint, issued_at, origin)

        try:
            taken = self._numbering.take(
                ubn,
                channel,
                invoice_type=draft.invoice_type,
                actions_for=actions,
                low_stock_threshold=settings.low_stock_threshold,
                counter=counter,
            )
        except ActionRefused as refused:
            # A concurrent identical request committed first: answer with its invoice.
            replay = self._replay_by_key(ubn, idem_id, fingerprint) if idem_id else None
            if replay is None and draft.order_id:
                replay = self._replay_by_order(ubn, draft.order_id, fingerprint)
            if replay is None:
                raise RuntimeError(f"transaction action {refused.index} refused without a replayable record") from None
            return replay
        record = built["record"]
        if self._notify_outbox is not None:
            self._notify_outbox(ubn, record.invoice_number, "issued")
            if taken.low_stock_crossed:
                self._notify_outbox(ubn, record.invoice_number, low_stock.EVENT)
        return Issued(record, replayed=False)

    def _read(
        self, ubn: str, channel: str, draft: InvoiceDraft, idem_id: str | None, fingerprint: str
    ) -> tuple[Issued | None, dict[str, Any] | None, Counter | None]:
        """Everything issuing reads, in one round trip: the Idempotency-Key and order-id records
        (when given), the merchant's profile and the channel's counter. ``(replay, profile, counter)``;
        ``replay`` is the first invoice when the request repeats one."""
        keys = [self._merchants.profile_key(ubn), self._numbering.counter_key(ubn, channel, draft.invoice_type)]
        if idem_id:
            keys.append(_idempotency_key(idem_id))
        if draft.order_id:
            keys.append(self._invoices.order_key(ubn, draft.order_id))
        profile_item, counter_item, *records = get_many(keys)
        profile = self._merchants.profile_from_item(ubn, profile_item)
        counter = as_counter(counter_item) if counter_item else None
        replay = self._replay_by_key(ubn, idem_id, fingerprint, item=records.pop(0)) if idem_id else None
        if replay is None and draft.order_id:
            replay = self._replay_by_order(ubn, draft.order_id, fingerprint, item=records.pop(0))
        return replay, profile, counter

    # --- replays ---------------------------------------------------------------------------------

    def _replay_by_key(
        self, ubn: str, idem_id: str, fingerprint: str, *, item: dict[str, Any] | _Unread | None = _UNREAD
    ) -> Issued | None:
        """The first invoice of this Idempotency-Key; ``item`` is its record if just read."""
        if isinstance(item, _Unread):
            item = self._idempotency(idem_id)
        if item is None or int(item.get("expiration", 0)) < int(self._clock.now().timestamp()):
            return None
        if item.get("validation") != fingerprint:
            raise _reused("Idempotency-Key", "Idempotency-Key", "冪等鍵")
        return self._replay(ubn, str(item["invoice_number"]))

    def _replay_by_order(
        self, ubn: str, order_id: str, fingerprint: str, *, item: dict[str, Any] | _Unread | None = _UNREAD
    ) -> Issued | None:
        """The first invoice of this order id; ``item`` is its record if just read."""
        if isinstance(item, _Unread):
            item = self._invoices.order(ubn, order_id)
        if item is None:
            return None
        if item.get("validation") != fingerprint:
            raise _reused("order_id", "order_id", "訂單編號")
        return self._replay(ubn, str(item["invoice_number"]))

    def _replay(self, ubn: str, number: str) -> Issued:
        record = self._invoices.get(ubn, number)
        if record is None:  # the records are written in one transaction with the invoice
            raise RuntimeError(f"replay record points to a missing invoice {number}")
        return Issued(record, replayed=True)

    @staticmethod
    def _idempotency(idem_id: str) -> dict[str, Any] | None:
        table, item_key = _idempotency_key(idem_id)
        item = dynamodb().get_item(TableName=table, Key=item_key, ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    # --- building --------------------------------------------------------------------------------

    def _record(
        self,
        ubn: str,
        profile: Mapping[str, Any],
        validated: ValidatedDraft,
        number: InvoiceNumber,
        issued_at: datetime,
        random_number: str,
        channel: str,
        actor: str,
        qr_key: str,
    ) -> InvoiceRecord:
        draft: InvoiceDraft = validated.draft
        amounts = validated.amounts
        period = Period.from_date(issued_at.date())
        items = [
            RecordItem(
                sequence=index,
                description=item.description,
                quantity=_plain(item.quantity),
                unit=item.unit,
                unit_price=_plain(item.unit_price),
                amount=_plain(item.amount),
                tax_type=str(item.tax_type.value),
                remark=item.remark,
            )
            for index, item in enumerate(draft.items, start=1)
        ]
        codes = invoice_codes(
            period=period.code,
            number=number.value,
            invoice_date=issued_at.date(),
            random_number=random_number,
            tax_exclusive_sales_amount=amounts.tax_exclusive_sales_amount,
            zero_tax_sales_amount=amounts.zero_tax_sales_amount,
            free_tax_sales_amount=amounts.free_tax_sales_amount,
            total_amount=amounts.total_amount,
            seller_ubn=ubn,
            buyer_ubn=draft.buyer.ubn,
            items=tuple(QrItem(i.description, i.quantity, i.unit_price) for i in draft.items),
            qr_key=qr_key,
        )
        buyer = draft.buyer.model_dump(mode="json")
        carrier = draft.carrier.model_dump(mode="json", exclude_none=True) if draft.carrier else None
        return InvoiceRecord(
            invoice_number=number.value,
            random_number=random_number,
            period=period.code,
            invoice_date=issued_at.date(),
            invoice_time=issued_at.strftime("%H:%M:%S"),
            issued_at=issued_at,
            invoice_type=draft.invoice_type.value,
            channel=channel,
            seller={"ubn": ubn, "name": profile["name"], "address": profile.get("address") or ""},
            buyer=buyer,
            items=items,
            amounts=Amounts.model_validate(amounts.model_dump(mode="json")),
            tax_exclusive_sales_amount=amounts.tax_exclusive_sales_amount,
            output_tax_amount=amounts.output_tax_amount,
            carrier=carrier,
            donation_code=draft.donation_code,
            print_mark=draft.print_proof,
            prices_include_tax=draft.prices_include_tax,
            customs_clearance_mark=draft.customs_clearance_mark.value if draft.customs_clearance_mark else None,
            zero_tax_rate_reason=draft.zero_tax_rate_reason.value if draft.zero_tax_rate_reason else None,
            special_tax_rate=_plain(draft.special_tax_rate) if draft.special_tax_rate is not None else None,
            main_remark=draft.main_remark,
            order_id=draft.order_id,
            status="issued",
            barcode=codes.barcode,
            qr_left=codes.qr_left,
            qr_right=codes.qr_right,
            history=[HistoryEntry(at=issued_at.isoformat(), event="issued", actor=actor, detail={"channel": channel})],
            warnings=[
                {"code": w.code, "message": w.message, "message_zh": w.message_zh, "field": w.field}
                for w in validated.warnings
            ],
        )

    def _transaction(
        self,
        ubn: str,
        record: InvoiceRecord,
        settings: MerchantSettings,
        idem_id: str | None,
        fingerprint: str,
        issued_at: datetime,
        origin: str | None = None,
    ) -> list[dict[str, Any]]:
        table = invoices_table()
        email = "pending" if record.buyer.get("email") and settings.email_buyer else "skipped"
        sms = "pending" if record.buyer.get("mobile") and settings.sms_buyer else "skipped"
        created = issued_at.isoformat()
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": table,
                    "Item": to_item(invoice_item(record, ubn)),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            _totals_update(ubn, record),
            *purchases_actions(None, record),
            {
                "Put": {
                    "TableName": table,
                    "Item": to_item(
                        {
                            "pk": owner(ubn),
                            "sk": outbox_sort_key(record.invoice_number, "issued"),
                            "ubn": ubn,
                            "invoice_number": record.invoice_number,
                            "event": "issued",
                            "created_at": created,
                            "steps": {
                                "xml": "pending",
                                "proof_pdf": "pending",
                                "a4_pdf": "pending",
                                "email": email,
                                "sms": sms,
                            },
                            "attempts": 0,
                            "status": "pending",
                            "gsi1pk": OUTBOX_PENDING,
                            "gsi1sk": f"{created}#{ubn}#{record.invoice_number}",
                            **({"origin": origin} if origin else {}),
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        if idem_id:
            expires = int((issued_at + IDEMPOTENCY_TTL).timestamp())
            actions.append(
                {
                    "Put": {
                        "TableName": get_settings().idempotency_table,
                        "Item": to_item(
                            {
                                "id": idem_id,
                                "invoice_number": record.invoice_number,
                                "validation": fingerprint,
                                "status": "COMPLETED",
                                "expiration": expires,
                            }
                        ),
                        # An expired record (DynamoDB deletes them lazily) may be replaced.
                        "ConditionExpression": "attribute_not_exists(id) OR expiration < :now",
                        "ExpressionAttributeValues": {":now": {"N": str(int(issued_at.timestamp()))}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            )
        if record.order_id:
            actions.append(
                {
                    "Put": {
                        "TableName": table,
                        "Item": to_item(
                            {
                                "pk": owner(ubn),
                                "sk": f"ORDER#{record.order_id}",
                                "invoice_number": record.invoice_number,
                                "validation": fingerprint,
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            )
        return actions


def _totals_update(ubn: str, record: InvoiceRecord) -> dict[str, Any]:
    """Running totals of the period, which the 401 return reads instead of scanning invoices."""
    return totals_update(ubn, record.period, record.invoice_type, totals_changes(record))


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def error_body(error: DomainError) -> dict[str, Any]:
    return {"code": error.code, "message": error.message, "message_zh": error.message_zh, "field": error.field}
