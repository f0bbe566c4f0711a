"""The console's invoice forms, turned into the bodies the services take.

Inputs are named as the JSON API names the fields (``items[0].quantity``, ``buyer.ubn``,
``carrier.id``), so an error a service reports lands next to the input it names. Blank item rows
are left out of the body; ``used`` keeps which form row each body item came from, so an error on
``items[1]`` of the body is shown on the row the merchant typed it in.

Nothing here takes a number or writes anything: the issue preview (試算) runs the domain's own
``parse_draft`` and ``validate_draft``, exactly what issuing runs before it numbers the invoice.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from chalicelib.domain.allowance import AllowanceAmounts, compute_allowance_amounts
from chalicelib.domain.allowance_record import AllowanceRecord, AllowanceRequest
from chalicelib.domain.amounts import AmountBlock, item_amount
from chalicelib.domain.carriers import CITIZEN_CERTIFICATE, MOBILE_BARCODE, CarrierKind, carrier_kind
from chalicelib.domain.errors import DomainError, InvalidInput
from chalicelib.domain.invoice import DomainWarning, parse_draft, validate_draft
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.web.forms import Form

#: More rows than a person types on a page; the form parser stops at 2000 fields anyway.
MAX_ROWS = 200
ROW_FIELDS = ("description", "quantity", "unit_price", "tax_type")
_ROW = re.compile(r"items\[(\d{1,4})\]\.(description|quantity|unit_price|tax_type)")
_ITEM_FIELD = re.compile(r"items\[(\d+)\](.*)")
# A per-render key: random, URL-safe; anything else in the hidden field was not written by us.
_FORM_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")

Text = Callable[[str, str], str]

TAX_TYPES: tuple[tuple[str, str, str], ...] = (
    ("1", "應稅", "Taxable"),
    ("2", "零稅率", "Zero-rated"),
    ("3", "免稅", "Tax-exempt"),
    ("4", "特種稅率", "Special rate"),
)
CARRIER_KINDS: tuple[tuple[str, str, str], ...] = (
    ("mobile_barcode", "手機條碼", "Mobile barcode"),
    ("citizen_certificate", "自然人憑證", "Citizen digital certificate"),
    ("member", "會員載具", "Member carrier"),
)
_CARRIER_CODES = {"mobile_barcode": MOBILE_BARCODE, "citizen_certificate": CITIZEN_CERTIFICATE}
_CARRIER_CHOICES = frozenset(code for code, _, _ in CARRIER_KINDS)
STATUS_LABELS = {
    "issued": ("已開立", "Issued", "ok"),
    "cancelled": ("已作廢", "Cancelled", "bad"),
    "voided": ("已註銷", "Voided", "warn"),
    "rejected": ("已退回", "Rejected", "bad"),
}

# What each field is called on the page, for messages shown away from the field (the preview, the
# banner at the top).
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "description": ("品名", "Description"),
    "quantity": ("數量", "Quantity"),
    "unit_price": ("單價", "Unit price"),
    "tax_type": ("課稅別", "Tax type"),
    "items": ("品項", "Items"),
    "buyer.ubn": ("買受人統一編號", "Buyer UBN"),
    "buyer.name": ("買受人名稱", "Buyer name"),
    "buyer.email": ("買受人電子郵件", "Buyer e-mail"),
    "carrier.id": ("載具號碼", "Carrier number"),
    "carrier.type": ("會員載具代號", "Member carrier code"),
    "carrier.hidden_id": ("載具隱碼", "Hidden carrier id"),
    "carrier": ("載具", "Carrier"),
    "b2b_barcode": ("買受人手機條碼", "Buyer's mobile barcode"),
    "donation_code": ("捐贈碼", "Donation code"),
    "print": ("列印證明聯", "Print the proof"),
    "delivery": ("交付方式", "Delivery"),
    "prices_include_tax": ("單價含稅", "Prices include tax"),
    "invoice_type": ("發票類別", "Invoice type"),
    "special_tax_rate": ("特種稅率", "Special tax rate"),
    "customs_clearance_mark": ("通關方式", "Customs clearance"),
    "zero_tax_rate_reason": ("零稅率原因", "Zero-tax-rate reason"),
    "order_id": ("訂單編號", "Order number"),
    "main_remark": ("備註", "Remark"),
}


def new_form_key() -> str:
    """A fresh Idempotency-Key for one rendering of a form: sending it twice issues once."""
    return secrets.token_urlsafe(18)


def valid_form_key(value: str) -> bool:
    return _FORM_KEY.fullmatch(value) is not None


def field_label(name: str, t: Text) -> str:
    """``items[2].quantity`` → "第 3 列 數量"; unknown names are shown as they are."""
    match = _ITEM_FIELD.fullmatch(name)
    if match:
        row = int(match.group(1)) + 1
        sub = match.group(2).lstrip(".")
        zh, en = FIELD_LABELS.get(sub, (sub, sub)) if sub else ("", "")
        return t(f"第 {row} 列 {zh}".strip(), f"Row {row} {en}".strip())
    zh, en = FIELD_LABELS.get(name, (name, name))
    return t(zh, en)


def remap_items(error: DomainError, used: list[int]) -> DomainError:
    """The same error, its ``items[k]`` pointing at the form row body item ``k`` came from."""
    match = _ITEM_FIELD.fullmatch(error.field or "")
    if match is None:
        return error
    index = int(match.group(1))
    if index >= len(used):
        return error
    moved = f"items[{used[index]}]{match.group(2)}"
    return type(error)(error.code, error.message, error.message_zh, moved)


def _clean(value: str) -> str:
    return value.strip()


# --- the buyer and how the invoice reaches them (issue form and re-issue form) -------------------


@dataclass
class Delivery:
    """Who buys (a consumer, or a business with a UBN) and where the invoice goes.

    B2C: a carrier (載具), a donation code (捐贈碼) or a printed proof (證明聯). B2B: the buyer's UBN and
    name, printed or not."""

    buyer_kind: str = "b2c"
    ubn: str = ""
    name: str = ""
    email: str = ""
    mode: str = "print"
    carrier_kind: str = "mobile_barcode"
    carrier_type: str = ""
    carrier_id: str = ""
    carrier_hidden_id: str = ""
    donation_code: str = ""
    print_b2b: bool = True
    # MIG 3.x keeps a mobile barcode together with a buyer UBN (the buyer scans the barcode and
    # asks for the UBN too): the one carrier a B2B invoice may have.
    b2b_barcode: str = ""

    @classmethod
    def from_form(cls, form: Form) -> Delivery:
        kind = form.get("buyer_kind")
        mode = form.get("delivery")
        carrier = form.get("carrier_kind")
        return cls(
            buyer_kind=kind if kind in ("b2c", "b2b") else "b2c",
            ubn=_clean(form.get("buyer.ubn")),
            name=_clean(form.get("buyer.name")),
            email=_clean(form.get("buyer.email")),
            mode=mode if mode in ("carrier", "donation", "print") else "print",
            carrier_kind=carrier
            if carrier in ("mobile_barcode", "citizen_certificate", "member")
            else "mobile_barcode",
            carrier_type=_clean(form.get("carrier.type")).upper(),
            carrier_id=_clean(form.get("carrier.id")),
            carrier_hidden_id=_clean(form.get("carrier.hidden_id")),
            donation_code=_clean(form.get("donation_code")),
            # An unticked box sends nothing; the hidden "0" before it says the form was sent at all.
            print_b2b="1" in form.all("print"),
            b2b_barcode=_clean(form.get("b2b_barcode")),
        )

    @classmethod
    def from_record(cls, record: InvoiceRecord) -> Delivery:
        """As the invoice was issued: the re-issue form starts from it."""
        buyer = record.buyer
        carrier = record.carrier or {}
        kind = carrier_kind(str(carrier.get("type") or "")) if carrier else None
        if kind is CarrierKind.MEMBER:
            carrier_choice = "member"
        elif kind is CarrierKind.CITIZEN_CERTIFICATE:
            carrier_choice = "citizen_certificate"
        else:
            carrier_choice = "mobile_barcode"
        if carrier:
            mode = "carrier"
        elif record.donation_code:
            mode = "donation"
        else:
            mode = "print"
        hidden = str(carrier.get("hidden_id") or "")
        b2b = bool(buyer.get("ubn"))
        return cls(
            buyer_kind="b2b" if b2b else "b2c",
            ubn=str(buyer.get("ubn") or ""),
            name=str(buyer.get("name") or ""),
            email=str(buyer.get("email") or ""),
            mode=mode,
            carrier_kind=carrier_choice,
            carrier_type=str(carrier.get("type") or "") if kind is CarrierKind.MEMBER else "",
            carrier_id=str(carrier.get("id") or ""),
            carrier_hidden_id=hidden if hidden != carrier.get("id") else "",
            donation_code=str(record.donation_code or ""),
            print_b2b=record.print_mark,
            b2b_barcode=str(carrier.get("id") or "") if b2b and kind is CarrierKind.MOBILE_BARCODE else "",
        )

    @property
    def is_b2b(self) -> bool:
        return self.buyer_kind == "b2b"

    def _carrier(self) -> dict[str, str]:
        if self.carrier_kind == "member":
            carrier = {"type": self.carrier_type, "id": self.carrier_id}
            if self.carrier_hidden_id:
                carrier["hidden_id"] = self.carrier_hidden_id
            return carrier
        # Public carrier numbers are upper case; a phone keyboard often starts lower case.
        return {"type": _CARRIER_CODES[self.carrier_kind], "id": self.carrier_id.upper()}

    def body(self) -> dict[str, Any]:
        """``buyer``, ``carrier``, ``donation_code`` and ``print`` of the JSON API."""
        buyer = {"name": self.name, "email": self.email}
        if self.is_b2b:
            buyer = {"ubn": self.ubn, **buyer}
        body: dict[str, Any] = {
            "buyer": {k: v for k, v in buyer.items() if v},
            "carrier": None,
            "donation_code": None,
            "print": self.print_b2b if self.is_b2b else self.mode == "print",
        }
        if not self.is_b2b and self.mode == "carrier":
            body["carrier"] = self._carrier()
        if self.is_b2b and self.b2b_barcode:
            body["carrier"] = {"type": MOBILE_BARCODE, "id": self.b2b_barcode.upper()}
        if not self.is_b2b and self.mode == "donation":
            body["donation_code"] = self.donation_code
        return body

    def shown_field(self, name: str) -> str:
        """The input an error about ``name`` belongs next to on this form."""
        if name == "print" and not self.is_b2b:
            return "delivery"
        if self.is_b2b and name.startswith("carrier"):
            return "b2b_barcode"
        if name == "carrier.type" and self.carrier_kind != "member":
            return "carrier.id"
        return name


# --- the issue form -------------------------------------------------------------------------------


@dataclass
class Row:
    description: str = ""
    quantity: str = ""
    unit_price: str = ""
    tax_type: str = "1"

    @property
    def blank(self) -> bool:
        return not (self.description or self.quantity or self.unit_price)

    def item(self) -> dict[str, str]:
        return {
            "description": self.description,
            "quantity": self.quantity,
            "unit_price": self.unit_price,
            "tax_type": self.tax_type,
        }


def rows_from(form: Form) -> list[Row]:
    found: dict[int, dict[str, str]] = {}
    for name, values in form.fields.items():
        match = _ROW.fullmatch(name)
        if match and values:
            found.setdefault(int(match.group(1)), {})[match.group(2)] = _clean(values[0])
    rows = [Row(**found[index]) for index in sorted(found)][:MAX_ROWS]
    return rows or [Row()]


@dataclass
class IssueForm:
    """Everything the issue page shows and sends, as the merchant typed it."""

    delivery: Delivery = field(default_factory=Delivery)
    rows: list[Row] = field(default_factory=lambda: [Row()])
    prices_include_tax: bool = True
    invoice_type: str = "07"
    special_tax_rate: str = ""
    customs_clearance_mark: str = ""
    zero_tax_rate_reason: str = ""
    order_id: str = ""
    main_remark: str = ""
    exchange: bool = False  # B2B exchange (交換, A0101): the buyer confirms or rejects it

    @classmethod
    def from_form(cls, form: Form) -> IssueForm:
        return cls(
            delivery=Delivery.from_form(form),
            rows=rows_from(form),
            prices_include_tax=form.get("prices_include_tax", "true") != "false",
            invoice_type="08" if form.get("invoice_type") == "08" else "07",
            special_tax_rate=_clean(form.get("special_tax_rate")),
            customs_clearance_mark=_clean(form.get("customs_clearance_mark")),
            zero_tax_rate_reason=_clean(form.get("zero_tax_rate_reason")),
            order_id=_clean(form.get("order_id")),
            main_remark=_clean(form.get("main_remark")),
            exchange="1" in form.all("exchange"),
        )

    @property
    def used(self) -> list[int]:
        """The form rows that hold an item (blank rows are left out)."""
        return [index for index, row in enumerate(self.rows) if not row.blank]

    def body(self) -> dict[str, Any]:
        """The ``POST /v1/invoices`` body this form stands for (the same form gives the same body,
        so the idempotency fingerprint of a resubmission matches)."""
        body: dict[str, Any] = {
            **self.delivery.body(),
            "items": [self.rows[index].item() for index in self.used],
            "prices_include_tax": self.prices_include_tax,
            "invoice_type": self.invoice_type,
        }
        for name in ("special_tax_rate", "customs_clearance_mark", "zero_tax_rate_reason", "order_id", "main_remark"):
            value = getattr(self, name)
            if value:
                body[name] = value
        if self.exchange and self.delivery.is_b2b:
            # An exchanged invoice reaches the buyer through the platform: never printed.
            body["exchange"] = True
            body["print"] = False
        return body

    def shown_field(self, error: DomainError) -> DomainError:
        """``error`` moved to the input that shows it: its form row, or the delivery choice."""
        moved = remap_items(error, self.used)
        name = self.delivery.shown_field(moved.field or "")
        if name != (moved.field or ""):
            return type(moved)(moved.code, moved.message, moved.message_zh, name)
        return moved

    def add_row(self) -> int:
        if len(self.rows) < MAX_ROWS:
            self.rows.append(Row())
        return len(self.rows) - 1

    def remove_row(self, index: int) -> int:
        """Remove row ``index`` (the last row is emptied instead); the row to focus next."""
        if 0 <= index < len(self.rows):
            del self.rows[index]
        if not self.rows:
            self.rows.append(Row())
        return min(max(index, 0), len(self.rows) - 1)


@dataclass(frozen=True)
class Preview:
    """What the server computed for the form as it stands: amounts, or the first problem."""

    amounts: AmountBlock | None = None
    lines: tuple[tuple[int, Decimal], ...] = ()
    error: DomainError | None = None
    warnings: tuple[DomainWarning, ...] = ()
    b2b: bool = False

    @property
    def empty(self) -> bool:
        return self.amounts is None and self.error is None


def preview(form: IssueForm, seller_ubn: str) -> Preview:
    """Validate and total the draft as issuing does, without taking a number."""
    if not form.used:
        return Preview()
    try:
        validated = validate_draft(parse_draft(form.body()), seller_ubn=seller_ubn)
    except DomainError as error:
        return Preview(error=form.shown_field(error))
    lines = tuple(
        (row, item_amount(item.quantity, item.unit_price))
        for row, item in zip(form.used, validated.draft.items, strict=True)
    )
    return Preview(amounts=validated.amounts, lines=lines, warnings=validated.warnings, b2b=validated.draft.is_b2b)


# --- the allowance form ---------------------------------------------------------------------------


@dataclass
class AllowanceRow:
    """One line of the original invoice and how much of it is allowed (折讓)."""

    sequence: int
    original_description: str
    original_quantity: str
    tax_type: str
    description: str
    quantity: str = ""
    unit_price: str = ""


@dataclass
class AllowanceForm:
    number: str
    rows: list[AllowanceRow]
    prices_include_tax: bool
    remark: str = ""

    @classmethod
    def blank(cls, record: InvoiceRecord) -> AllowanceForm:
        rows = [
            AllowanceRow(
                sequence=item.sequence,
                original_description=item.description,
                original_quantity=item.quantity,
                tax_type=item.tax_type,
                description=item.description,
                unit_price=item.unit_price,
            )
            for item in record.items
        ]
        include = record.prices_include_tax if record.prices_include_tax is not None else True
        return cls(record.invoice_number, rows, include)

    @classmethod
    def of_allowance(cls, record: InvoiceRecord, allowance: AllowanceRecord) -> AllowanceForm:
        """The form filled with what ``allowance`` allows on ``record``'s lines (tax-exclusive, as
        stored), to correct it (void and re-issue, 註銷重開)."""
        filled = cls.blank(record)
        by_sequence = {
            item.original_sequence_number: item
            for item in allowance.items
            if item.original_invoice_number == record.invoice_number
        }
        for row in filled.rows:
            item = by_sequence.get(row.sequence)
            if item is not None:
                row.description, row.quantity, row.unit_price = item.description, item.quantity, item.unit_price
        filled.prices_include_tax = False
        filled.remark = allowance.remark or ""
        return filled

    @classmethod
    def from_form(cls, record: InvoiceRecord, form: Form) -> AllowanceForm:
        filled = cls.blank(record)
        for index, row in enumerate(filled.rows):
            prefix = f"items[{index}]."
            row.description = _clean(form.get(prefix + "description", row.description))
            row.quantity = _clean(form.get(prefix + "quantity"))
            row.unit_price = _clean(form.get(prefix + "unit_price", row.unit_price))
        filled.prices_include_tax = form.get("prices_include_tax", "true") != "false"
        filled.remark = _clean(form.get("remark"))
        return filled

    @property
    def used(self) -> list[int]:
        return [index for index, row in enumerate(self.rows) if row.quantity not in ("", "0")]

    def body(self) -> dict[str, Any]:
        """The ``POST /v1/allowances`` body: the lines given a quantity, against this invoice."""
        items = [
            {
                "original_invoice_number": self.number,
                "original_sequence_number": self.rows[index].sequence,
                "description": self.rows[index].description,
                "quantity": self.rows[index].quantity,
                "unit_price": self.rows[index].unit_price,
                "tax_type": self.rows[index].tax_type,
            }
            for index in self.used
        ]
        body: dict[str, Any] = {"items": items, "prices_include_tax": self.prices_include_tax}
        if self.remark:
            body["remark"] = self.remark
        return body

    def amounts(self) -> AllowanceAmounts:
        """The allowance's amounts as the service will compute them (``compute_allowance_amounts``)."""
        if not self.used:
            raise InvalidInput(
                "NO_ALLOWANCE_LINES",
                "Give the quantity allowed on at least one line.",
                "請至少於一個品項填寫折讓數量。",
                "items",
            )
        request = AllowanceRequest.model_validate(self.body())
        return compute_allowance_amounts(request.items, prices_include_tax=self.prices_include_tax)
