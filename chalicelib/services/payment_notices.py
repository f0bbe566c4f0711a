"""Payment notices: the merchant's payment system says an order is paid, and its pending invoice
is issued exactly once.

The notice is authenticated by an HMAC-SHA256 signature with the merchant's webhook secret over
``f"{timestamp}.{raw body}"`` (the Stripe scheme): the timestamp inside the signed text bounds a
captured notice to a 5-minute window, and the signature digest remembered for that window
refuses a replay. Repeats with new timestamps are legitimate retries; they are safe because
issuing is idempotent by ``order_id``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import Conflict, NotFound, RuleViolation, Unauthenticated
from chalicelib.domain.pending_invoice import ISSUED
from chalicelib.services.pending_invoices import PendingInvoiceService
from chalicelib.services.ports import IdempotencyStore, MerchantStore

TOLERANCE = timedelta(minutes=5)
# Remembered a little longer than the window, so a replay at its very edge is still known.
REPLAY_TTL = TOLERANCE * 2 + timedelta(minutes=1)
_UBN = re.compile(r"[0-9]{8}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")


def _refused() -> Unauthenticated:
    # One answer for an unknown merchant, a merchant without a secret and a bad signature, so the
    # endpoint tells a prober nothing about which merchants exist or have a secret.
    return Unauthenticated(
        "INVALID_SIGNATURE",
        "The notice's signature could not be verified",
        "付款通知簽章驗證失敗",
        "X-Signature",
    )


class SecretReader(Protocol):
    def read(self, ubn: str) -> bytes | None:
        """The merchant's webhook secret, or None when it has none."""


class PaymentNotice(BaseModel):
    """What the payment system tells us; fields beyond these are its own and are ignored."""

    model_config = ConfigDict(extra="allow")

    order_id: str = Field(min_length=1, max_length=20)
    amount: Decimal | int | str | None = None
    paid_at: str | None = Field(default=None, max_length=40)


class NoticeResult(BaseModel):
    order_id: str
    invoice_number: str
    status: str
    replayed: bool = False


class PaymentNoticeService:
    def __init__(
        self,
        *,
        secrets_store: SecretReader,
        merchants: MerchantStore,
        pending: PendingInvoiceService,
        replays: IdempotencyStore,
        clock: Clock,
    ) -> None:
        self._secrets = secrets_store
        self._replays = replays
        self._merchants = merchants
        self._pending = pending
        self._clock = clock

    def authenticate(self, ubn: str | None, timestamp: str | None, signature: str | None, raw: bytes) -> str:
        """Verify the signature, then the timestamp; answers the digest that identifies the notice."""
        if not (ubn and timestamp and signature):
            raise _refused()
        if not (_UBN.fullmatch(ubn) and _TIMESTAMP.fullmatch(timestamp) and _SIGNATURE.fullmatch(signature)):
            raise _refused()
        secret = self._secrets.read(ubn)
        if secret is None or self._merchants.get_profile(ubn) is None:
            raise _refused()
        expected = hmac.new(secret, timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise _refused()
        now = self._clock.now().timestamp()
        if abs(now - int(timestamp)) > TOLERANCE.total_seconds():
            raise Unauthenticated(
                "STALE_TIMESTAMP",
                "X-Timestamp is more than 5 minutes from now; send the notice again with a new timestamp",
                "X-Timestamp 與目前時間相差超過 5 分鐘，請以新的時間戳記重新送出",
                "X-Timestamp",
            )
        return hashlib.sha256(f"{ubn}.{signature.lower()}".encode()).hexdigest()

    def first_time(self, ubn: str, digest: str) -> bool:
        """Remember the notice; False when it was seen before (a replay)."""
        now = int(self._clock.now().timestamp())
        return self._replays.remember(f"NOTICE#{ubn}#{digest}", now + int(REPLAY_TTL.total_seconds()), now)

    def handle(self, ubn: str, notice: PaymentNotice, *, first_time: bool) -> NoticeResult:
        pending = self._pending.by_order(ubn, notice.order_id)
        if pending is None:
            raise NotFound("ORDER_NOT_FOUND", "No pending invoice for this order", "此訂單沒有待開立發票", "order_id")
        if not first_time:
            # A replay issues nothing; it answers what the first notice achieved.
            if pending.status == ISSUED and pending.invoice_number:
                return NoticeResult(
                    order_id=pending.order_id, invoice_number=pending.invoice_number, status=ISSUED, replayed=True
                )
            raise Conflict(
                "NOTICE_REPLAYED",
                "This exact notice was already received; send a new one with a new timestamp",
                "已收過相同的付款通知，請以新的時間戳記重新送出",
                "X-Signature",
            )
        self._check_amount(notice, pending.amounts)
        issued = self._pending.trigger(pending, actor=f"payment-notice:{ubn}")
        return NoticeResult(order_id=pending.order_id, invoice_number=issued.record.invoice_number, status=ISSUED)

    @staticmethod
    def _check_amount(notice: PaymentNotice, amounts: dict[str, Any]) -> None:
        """A paid amount that is not the invoice's total means the order changed after the invoice
        was held: issuing it anyway would put a wrong total on a tax document."""
        if notice.amount is None:
            return
        try:
            paid = Decimal(str(notice.amount))
        except InvalidOperation:
            paid = None
        total = Decimal(str(amounts.get("total_amount", "0")))
        if paid is None or not paid.is_finite() or paid != total:
            raise RuleViolation(
                "AMOUNT_MISMATCH",
                f"The paid amount is not the pending invoice's total ({total})",
                f"付款金額與待開立發票總計（{total}）不符",
                "amount",
            )
