"""Look-up routes: format validity of UBNs, carriers and donation codes."""

from __future__ import annotations

from chalice.app import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.adapters.dynamo_tax_registry import DynamoTaxRegistry
from chalicelib.api.routing import operation
from chalicelib.services.lookup import (
    CarrierLookup,
    DonationCodeLookup,
    UbnLookup,
    lookup_carrier,
    lookup_donation_code,
    lookup_ubn,
)

bp = Blueprint(__name__)


class CarrierQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(max_length=20, description="Carrier type: 3J0002, CQ0001, 1K0001, 1H0001 or a member code")
    id: str = Field(
        max_length=400,
        description="Carrier id, percent-encoded (a mobile barcode starts with / and may hold +)",
    )


@operation(
    bp,
    "/v1/lookup/ubn/{ubn}",
    summary="UBN (統一編號): checksum validity and whether the tax registry knows the business",
    tag="Look-ups",
    auth="public",
    response=UbnLookup,
)
def ubn(ubn: str) -> UbnLookup:
    return lookup_ubn(ubn, DynamoTaxRegistry())


@operation(
    bp,
    "/v1/lookup/carriers",
    summary="Carrier (載具) format validity, with the reason when invalid",
    tag="Look-ups",
    auth="public",
    query=CarrierQuery,
    response=CarrierLookup,
)
def carriers(query: CarrierQuery) -> CarrierLookup:
    return lookup_carrier(query.type, query.id)


@operation(
    bp,
    "/v1/lookup/donation-codes/{code}",
    summary="Donation code (捐贈碼) format validity",
    tag="Look-ups",
    auth="public",
    response=DonationCodeLookup,
)
def donation_codes(code: str) -> DonationCodeLookup:
    return lookup_donation_code(code)
