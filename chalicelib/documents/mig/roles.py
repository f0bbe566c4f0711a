"""RoleDescriptionType: ``Seller`` and ``Buyer`` of F0401 and G0401 (reference §2.5.2), in this order."""

from __future__ import annotations

from chalicelib.documents.mig._base import MigModel
from chalicelib.documents.mig._types import (
    Ban,
    BuyerBan,
    Opt,
    Text20,
    Text26,
    Text30,
    Text40,
    Text60,
    Text80,
    Text100,
)

# ⚠️ EmailAddress is ≤400 in RS but ≤80 in ho600 / MIG 3.x (reference §2.5.2, §11). Safer reading:
# enforce 80, which any schema of the two accepts.


class Seller(MigModel):
    """賣方: the Address is mandatory (TB-MIG marks it so; ho600 refuses a seller without one)."""

    mig_tag = "Seller"
    mig_ordered = True

    identifier: Ban
    name: Text60
    address: Text100
    person_in_charge: Opt[Text30] = None
    telephone_number: Opt[Text26] = None
    facsimile_number: Opt[Text26] = None
    email_address: Opt[Text80] = None
    customer_number: Opt[Text20] = None
    role_remark: Opt[Text40] = None


class Buyer(MigModel):
    """買方: a UBN, or ``0000000000`` for a consumer (B2C)."""

    mig_tag = "Buyer"
    mig_ordered = True

    identifier: BuyerBan
    name: Text60
    address: Opt[Text100] = None
    person_in_charge: Opt[Text30] = None
    telephone_number: Opt[Text26] = None
    facsimile_number: Opt[Text26] = None
    email_address: Opt[Text80] = None
    customer_number: Opt[Text20] = None
    role_remark: Opt[Text40] = None
