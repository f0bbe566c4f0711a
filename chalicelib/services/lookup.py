"""Look-ups a merchant's ERP calls before issuing: is this UBN, carrier or donation code usable?

Format checks only (plus the platform's own tax registry for UBNs); whether a mobile barcode
or donation code exists at the MOF needs its business API, which this platform does not call.
"""

from __future__ import annotations

from pydantic import BaseModel

from chalicelib.domain.carriers import check_carrier
from chalicelib.domain.donation import is_valid_donation_code
from chalicelib.domain.ubn import is_valid_ubn
from chalicelib.services.ports import TaxRegistryReader


class UbnLookup(BaseModel):
    ubn: str
    valid: bool
    registered: bool
    name: str | None = None
    status: str | None = None


class CarrierLookup(BaseModel):
    type: str
    id: str
    valid: bool
    reason: str | None = None
    reason_zh: str | None = None


class DonationCodeLookup(BaseModel):
    code: str
    valid: bool


def lookup_ubn(ubn: str, registry: TaxRegistryReader) -> UbnLookup:
    if not is_valid_ubn(ubn):
        return UbnLookup(ubn=ubn, valid=False, registered=False)
    record = registry.get(ubn)
    if record is None:
        return UbnLookup(ubn=ubn, valid=True, registered=False)
    return UbnLookup(ubn=ubn, valid=True, registered=True, name=record.name, status=record.status.value)


def lookup_carrier(carrier_type: str, carrier_id: str) -> CarrierLookup:
    result = check_carrier(carrier_type, carrier_id)
    return CarrierLookup(
        type=carrier_type, id=carrier_id, valid=result.valid, reason=result.reason, reason_zh=result.reason_zh
    )


def lookup_donation_code(code: str) -> DonationCodeLookup:
    return DonationCodeLookup(code=code, valid=is_valid_donation_code(code))
