"""The buyer's public invoice look-up (no sign-in): ``GET /v1/public/invoices/lookup`` and the
proof download its answer links to. The console's ``/lookup`` page asks the same service.

What the service does and why a wrong code tells nothing: services/invoice_lookup.py. The limits
(per client IP, and per invoice number or seller + order id whoever asks): api/rate_limits.py.
"""

from __future__ import annotations

from datetime import date
from typing import Self

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib.api import deps
from chalicelib.api.invoices import DownloadLink, link_response
from chalicelib.api.routing import operation
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.validation import as_pydantic_error
from chalicelib.services.invoice_lookup import PublicInvoice

bp = Blueprint(__name__)
TAG = "Public invoice look-up"

_BY_NUMBER = ("invoice_number", "random_number", "invoice_date")
_BY_ORDER = ("seller_ubn", "order_id", "email")
_NAMES = {
    "invoice_number": ("the invoice number", "發票號碼"),
    "random_number": ("the random number", "隨機碼"),
    "invoice_date": ("the invoice date", "發票開立日期"),
    "seller_ubn": ("the seller's UBN", "賣方統一編號"),
    "order_id": ("the order number", "訂單編號"),
    "email": ("the e-mail address", "收件電子郵件"),
}


class InvoiceLookupQuery(BaseModel):
    """Either the invoice number, random number and date, or the seller's UBN, the order id and the
    address the invoice was mailed to."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {"invoice_number": "AB12345678", "random_number": "1234", "invoice_date": "2026-03-14"},
                {"seller_ubn": "24634102", "order_id": "SO-2026-0001", "email": "buyer@example.com"},
            ]
        },
    )

    invoice_number: str | None = Field(
        default=None, pattern=r"^[A-Za-z]{2}-?[0-9]{8}$", description="e.g. AB12345678 or AB-12345678"
    )
    random_number: str | None = Field(default=None, pattern=r"^[0-9]{4}$", description="The 4-digit 隨機碼")
    invoice_date: date | None = Field(default=None, description="The date on the invoice (YYYY-MM-DD)")
    seller_ubn: str | None = Field(default=None, pattern=r"^[0-9]{8}$", description="The seller's 統一編號")
    order_id: str | None = Field(default=None, min_length=1, max_length=20, description="The seller's order number")
    email: str | None = Field(default=None, min_length=3, max_length=254, description="Where the invoice was mailed")

    @model_validator(mode="after")
    def _one_pair(self) -> Self:
        by_order = any(getattr(self, name) is not None for name in _BY_ORDER)
        wanted = _BY_ORDER if by_order and self.invoice_number is None else _BY_NUMBER
        for name in wanted:
            if getattr(self, name) is None:
                english, chinese = _NAMES[name]
                raise as_pydantic_error(InvalidInput("REQUIRED", f"Enter {english}", f"請輸入{chinese}", field=name))
        return self

    @property
    def by_number(self) -> bool:
        return self.invoice_number is not None

    @property
    def number(self) -> str:
        return (self.invoice_number or "").replace("-", "").upper()

    def subject(self) -> str:
        """What the per-invoice limit counts by: the invoice, whoever asks."""
        if self.by_number:
            return f"invoice:{self.number}"
        return f"order:{self.seller_ubn}#{self.order_id}"


def look_up(query: InvoiceLookupQuery) -> PublicInvoice:
    """The invoice the query's pair names (``_one_pair`` saw that every part of it is there)."""
    service = deps.invoice_lookup_service()
    if query.by_number and query.random_number and query.invoice_date:
        return service.by_number(query.number, query.random_number, query.invoice_date)
    return service.by_order(query.seller_ubn or "", query.order_id or "", query.email or "")


@operation(
    bp,
    "/v1/public/invoices/lookup",
    summary="A buyer looks up one invoice: number + random number + date, or seller UBN + order id + e-mail",
    description=(
        "No sign-in. The answer is the invoice's main data, the buyer masked, and a link to its proof "
        "that works for 10 minutes. Anything that does not match (no such invoice, a wrong random number, "
        "date, order id or address) gets the same 404 `INVOICE_NOT_FOUND`, naming no field. An order id "
        "is unique only within its seller, hence the seller's UBN."
    ),
    tag=TAG,
    auth="public",
    query=InvoiceLookupQuery,
    response=PublicInvoice,
    errors=(404,),
    rate="lookup",
    rate_account=lambda query: query.subject(),
)
def lookup(query: InvoiceLookupQuery) -> PublicInvoice:
    return look_up(query)


class ProofQuery(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"token": "AB12345678.1773456000.Yq3v0n4m3lS1xv8bq5b6Hh7Qx0ZfK2bqk0q9w1Lr8aE"}]
        },
    )

    token: str = Field(max_length=100, description="From a look-up's proof_url")


@operation(
    bp,
    "/v1/public/invoices/proof",
    summary="The looked-up invoice's 5.7 cm proof (證明聯) PDF: a redirect to a 5-minute link",
    description=(
        "The token comes from a look-up and works for 10 minutes, for the invoice's current version "
        "only (a void and re-issue ends it). 404 `LOOKUP_LINK_INVALID` when it has expired or is not valid."
    ),
    tag=TAG,
    auth="public",
    query=ProofQuery,
    response=DownloadLink,
    status=302,
    errors=(404,),
    rate="lookup",
)
def proof(query: ProofQuery) -> Response:
    return link_response(deps.invoice_lookup_service().proof(query.token))
