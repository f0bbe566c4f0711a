"""E0504 中獎清冊資料檔 (winning-invoice list): what the MOF platform sends a head office (HeadBan)
for each period, one ``PrizeInvoice`` per winning invoice of its member carriers (reference §1, §5).

The official schema is MIG 4.0 (``urn:GEINV:eInvoiceMessage:E0504:4.0``, vendored in
``xsd/common/v40/E0504.xsd``); ``Award`` holds one ``Main`` (one HeadBan per file) and ``Details``
with 1-9999 ``PrizeInvoice``. Every element but ``Seller`` is ``xsd:all`` (any order).

⚠️ unverified: the codes of PrizeType, DepositMark, RedeemDataType, PrizeDataSource and PrintType
are not in the schema and no source at hand lists them: they are kept as the file gives them (1-2
characters), and the platform reads the prize from ``PrizeAmount`` (統一發票給獎辦法's table). Within
one file a PrizeType code must stand for one amount, else the file is refused naming the row
(domain/lottery.py ``prize_types``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from chalicelib.documents.mig._base import MessageType, MigMessage, MigModel
from chalicelib.documents.mig._errors import FIELD_PATTERN, custom
from chalicelib.documents.mig._types import (
    _DEC,
    _PRINTABLE,
    Ban,
    BuyerBan,
    Dec20_7,
    InvoiceNumber,
    MigDate,
    MigTime,
    Opt,
    RandomNumber,
    Text6,
    Text60,
    Text400,
    Track,
    YearMonth,
    _text,
)
from chalicelib.documents.mig.roles import Buyer

MAX_PRIZE_INVOICES = 9999

#: A code of 1 (or 2) characters the schema does not enumerate.
Code1 = Annotated[str, _text(1), _PRINTABLE]
Code2 = Annotated[str, _text(2), _PRINTABLE]
#: 民國年月日 ``YYYMMDD`` (RecAwardBegin/RecAwardEnd).
RocDate = Annotated[str, StringConstraints(pattern=r"^[0-9]{3}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])$")]
#: TotalRecordCnt: decimal, 7 digits, not negative (a whole count).
RecordCount = Annotated[Decimal, _DEC, Field(max_digits=7, decimal_places=0, ge=0, allow_inf_nan=False)]
#: TotalPrizeAmount: decimal, 15 digits, not negative.
PrizeTotal = Annotated[Decimal, _DEC, Field(max_digits=15, decimal_places=0, ge=0, allow_inf_nan=False)]
#: PrizeAmount: decimal, 10 digits (whole NT$; the schema sets no minimum, a prize is never negative).
PrizeAmount = Annotated[Decimal, _DEC, Field(max_digits=10, decimal_places=0, ge=0, allow_inf_nan=False)]


#: 賣方 of a PrizeInvoice: the RoleDescriptionType group with its Address optional, as the schema has
#: it (the F0401 Seller requires one), which is the model of the F0401 Buyer.
AwardSeller = Buyer


class AwardMain(MigModel):
    mig_tag = "Main"

    head_ban: Ban
    year_month: YearMonth
    award_list_type: Code1
    total_record_cnt: RecordCount
    total_prize_amount: PrizeTotal
    rec_award_begin: RocDate
    rec_award_end: RocDate


class PrizeInvoice(MigModel):
    mig_tag = "PrizeInvoice"

    inv_track: Track
    invoice_number: InvoiceNumber
    invoice_date: MigDate
    invoice_time: Opt[MigTime] = None
    seller: AwardSeller
    buyer_id: BuyerBan
    total_amount: Dec20_7
    carrier_type: Opt[Text6] = None
    carrier_type_name: Opt[Text60] = None
    carrier_id1: Opt[Text400] = None
    carrier_id2: Opt[Text400] = None
    random_number: RandomNumber
    prize_type: Code1
    prize_amount: PrizeAmount
    deposit_mark: Code1
    redeem_data_type: Code1
    prize_data_source: Code2
    print_type: Code2

    @model_validator(mode="after")
    def _track_is_the_numbers(self) -> Self:
        if self.invoice_number[:2] != self.inv_track:
            raise custom(
                FIELD_PATTERN,
                f"InvTrack {self.inv_track} is not the track of InvoiceNumber {self.invoice_number}",
                f"InvTrack {self.inv_track} 與 InvoiceNumber {self.invoice_number} 的字軌不同",
            )
        return self


class Award(MigMessage):
    """E0504 message: the winning invoices of one head office (HeadBan) for one period."""

    message_type = MessageType.E0504
    mig_tag = "Award"

    main: AwardMain
    details: Annotated[tuple[PrizeInvoice, ...], Field(min_length=1, max_length=MAX_PRIZE_INVOICES)]


def parse_e0504(data: bytes) -> Award:
    """An uploaded E0504: validated against the official E0504.xsd first (``MIG_SCHEMA_FORMAT`` /
    ``MIG_SCHEMA_CONTENT`` naming element, path and line), then read into :class:`Award`."""
    from chalicelib.documents.mig.schema import check_message

    check_message("E0504", data)
    return Award.from_xml(data)


__all__ = ["Award", "AwardMain", "AwardSeller", "PrizeInvoice", "parse_e0504"]
