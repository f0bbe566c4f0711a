"""The buyer's public look-up (no sign-in): one invoice shown for the pair that proves the buyer holds
it, as the value-added centers' mail links do (ECPay, Amego).

Two pairs are accepted:

- the invoice number, its 4-digit random number and its date (what the proof and the mail show);
- the seller's UBN, the order id the seller gave the invoice and the e-mail address it was sent
  to. An order id is unique only within its seller, so the seller's UBN is part of the question.

Whatever is wrong (no such invoice, a wrong random number, date, order id or address, an invoice
never mailed), the answer is the same ``NotFound`` naming no field, and the comparison is the same
``hmac.compare_digest`` over values of the same length, made against a stand-in when there is no
invoice: nothing tells a real invoice from a wrong code. Guessing is held back by the rate limits
(per client IP and per invoice number or order, api/rate_limits.py), not here. Only the one invoice
is ever shown, never anything else of its seller.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.artifacts import ArtifactKind
from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import NotFound
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.period import Period
from chalicelib.domain.public_invoice import (
    PROOF_LINK_SECONDS,
    mask_carrier_id,
    mask_email,
    mask_name,
    proof_token,
    token_matches,
    token_number,
)
from chalicelib.services.invoice_documents import shown_number

PROOF_PATH = "/v1/public/invoices/proof"
# What a missing invoice is compared against: the same length as a real one's random number and date.
_STAND_IN = "0000|0001-01-01"


class InvoiceFinder(Protocol):
    def by_number(self, number: str) -> InvoiceRecord | None: ...

    def by_order(self, seller_ubn: str, order_id: str) -> InvoiceRecord | None: ...


class ProofLinks(Protocol):
    def invoice(self, record: InvoiceRecord, ubn: str, kind: ArtifactKind, *, download: bool = False) -> str: ...


def _not_found() -> NotFound:
    # Deliberately names no field: which part was wrong would tell a guesser what is right.
    return NotFound(
        "INVOICE_NOT_FOUND",
        "No invoice matches what you entered. Check the invoice number, random number and date "
        "(or the seller's UBN, order number and e-mail address) and try again.",
        "查無符合的發票。請確認發票號碼、隨機碼與開立日期（或賣方統一編號、訂單編號與收件電子郵件）後再試。",
    )


def _link_refused() -> NotFound:
    return NotFound(
        "LOOKUP_LINK_INVALID",
        "This download link has expired or is not valid; look the invoice up again for a new one.",
        "此下載連結已過期或無效，請重新查詢發票以取得新連結。",
    )


class PublicParty(BaseModel):
    ubn: str | None = None
    name: str = ""
    email: str | None = None


class PublicItem(BaseModel):
    description: str = ""
    quantity: str = "1"
    unit: str | None = None
    unit_price: str = "0"
    amount: str = "0"


class PublicAmounts(BaseModel):
    sales_amount: int = 0
    free_tax_sales_amount: int = 0
    zero_tax_sales_amount: int = 0
    tax_type: str = "1"
    tax_amount: int = 0
    total_amount: int = 0


class PublicCarrier(BaseModel):
    type: str = ""
    id: str = ""


_EXAMPLE: dict[str, Any] = {
    "invoice_number": "AB-12345678",
    "invoice_date": "2026-03-14",
    "invoice_time": "10:15:00",
    "period": "11504",
    "period_label": "115年03-04月",
    "status": "issued",
    "reissued": False,
    "cancelled_at": None,
    "b2b": False,
    "seller": {"ubn": "24634102", "name": "範例商行", "email": None},
    "buyer": {"ubn": None, "name": "陳*姐", "email": "ch***@example.com"},
    "carrier": {"type": "3J0002", "id": "/A*****3"},
    "donation_code": None,
    "items": [{"description": "拿鐵咖啡", "quantity": "2", "unit": "杯", "unit_price": "65", "amount": "130"}],
    "amounts": {
        "sales_amount": 130,
        "free_tax_sales_amount": 0,
        "zero_tax_sales_amount": 0,
        "tax_type": "1",
        "tax_amount": 0,
        "total_amount": 130,
    },
    "proof_url": "/v1/public/invoices/proof?token=AB12345678.1773456000.Yq3v0n4m3lS1xv8bq5b6Hh7Qx0ZfK2bqk0q9w1Lr8aE",
    "proof_expires_in": PROOF_LINK_SECONDS,
}


class PublicInvoice(BaseModel):
    """One invoice as its buyer may see it: the main data, the buyer masked, and a proof link."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    invoice_number: str = Field(default="", description="As printed: a donated invoice hides its last 3 digits")
    invoice_date: date = date(1970, 1, 1)
    invoice_time: str = ""
    period: str = ""
    period_label: str = ""
    status: str = Field(default="issued", description="issued or cancelled (作廢)")
    reissued: bool = Field(default=False, description="Voided and re-issued (註銷重開): this is the current version")
    cancelled_at: str | None = None
    b2b: bool = False
    seller: PublicParty = Field(default_factory=PublicParty)
    buyer: PublicParty = Field(default_factory=PublicParty, description="Name and e-mail masked")
    carrier: PublicCarrier | None = Field(default=None, description="Carrier id masked")
    donation_code: str | None = None
    items: list[PublicItem] = Field(default_factory=list)
    amounts: PublicAmounts = Field(default_factory=PublicAmounts)
    proof_url: str = Field(
        default="",
        description="The 5.7 cm proof (證明聯) PDF: a path under the API base URL, valid proof_expires_in seconds",
    )
    proof_expires_in: int = PROOF_LINK_SECONDS


def public_view(record: InvoiceRecord, proof_url: str) -> PublicInvoice:
    buyer = record.buyer
    carrier = record.carrier or {}
    cancellation = record.cancellation or {}
    return PublicInvoice(
        invoice_number=shown_number(record),
        invoice_date=record.invoice_date,
        invoice_time=record.invoice_time,
        period=record.period,
        period_label=Period.parse(record.period).label_zh,
        status=record.status,
        reissued=record.void_count > 0,
        cancelled_at=cancellation.get("cancelled_at"),
        b2b=record.is_b2b,
        seller=PublicParty(ubn=str(record.seller.get("ubn") or ""), name=str(record.seller.get("name") or "")),
        buyer=PublicParty(
            ubn=buyer.get("ubn") or None,
            name=mask_name(str(buyer.get("name") or "")),
            email=mask_email(str(buyer["email"])) if buyer.get("email") else None,
        ),
        carrier=(
            PublicCarrier(type=str(carrier.get("type")), id=mask_carrier_id(str(carrier.get("id") or "")))
            if carrier.get("type")
            else None
        ),
        donation_code=record.donation_code,
        items=[
            PublicItem(
                description=item.description,
                quantity=item.quantity,
                unit=item.unit,
                unit_price=item.unit_price,
                amount=item.amount,
            )
            for item in record.items
        ],
        amounts=PublicAmounts(
            sales_amount=record.amounts.sales_amount,
            free_tax_sales_amount=record.amounts.free_tax_sales_amount,
            zero_tax_sales_amount=record.amounts.zero_tax_sales_amount,
            tax_type=record.amounts.tax_type,
            tax_amount=record.amounts.tax_amount,
            total_amount=record.amounts.total_amount,
        ),
        proof_url=proof_url,
    )


def _same(expected: str, given: str) -> bool:
    """Constant time whatever the lengths: both are hashed to 32 bytes first."""
    return hmac.compare_digest(hashlib.sha256(expected.encode()).digest(), hashlib.sha256(given.encode()).digest())


def _address(value: str) -> str:
    return value.strip().casefold()


@dataclass(frozen=True)
class InvoiceLookupService:
    finder: InvoiceFinder
    links: ProofLinks
    clock: Clock
    key: bytes  # signs the proof links

    def by_number(self, invoice_number: str, random_number: str, invoice_date: date) -> PublicInvoice:
        record = self.finder.by_number(invoice_number)
        expected = f"{record.random_number}|{record.invoice_date.isoformat()}" if record else _STAND_IN
        matches = _same(expected, f"{random_number}|{invoice_date.isoformat()}")
        if record is None or not matches:
            raise _not_found()
        return self._shown(record)

    def by_order(self, seller_ubn: str, order_id: str, email: str) -> PublicInvoice:
        record = self.finder.by_order(seller_ubn, order_id)
        sent_to = str((record.buyer.get("email") if record else None) or "")
        # An invoice never mailed matches no address, not even an empty one.
        matches = _same(_address(sent_to) if sent_to else _STAND_IN, _address(email))
        if record is None or not sent_to or not matches:
            raise _not_found()
        return self._shown(record)

    def proof(self, token: str) -> str:
        """The short-lived link to the proof PDF a look-up's token names (built first if missing)."""
        named = token_number(token)
        record = self.finder.by_number(named[0]) if named else None
        now = int(self.clock.now().timestamp())
        seller = str(record.seller.get("ubn") or "") if record else ""
        if record is None or not token_matches(self.key, token, seller, record.random_number, now):
            raise _link_refused()
        return self.links.invoice(record, seller, ArtifactKind.PROOF_PDF, download=True)

    def _shown(self, record: InvoiceRecord) -> PublicInvoice:
        expires = int(self.clock.now().timestamp()) + PROOF_LINK_SECONDS
        seller = str(record.seller.get("ubn") or "")
        token = proof_token(self.key, seller, record.invoice_number, record.random_number, expires)
        return public_view(record, f"{PROOF_PATH}?token={token}")
