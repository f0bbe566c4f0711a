"""Constrained field types: the XSD facets of MIG 4.1 (reference §2.4-§2.9), checked before any XML.

Patterns use ``[0-9]`` rather than ``\\d`` (which would also accept full-width and other Unicode
digits) and are anchored, because pydantic's pattern check is a search.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from lxml import etree
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from chalicelib.documents.mig._errors import (
    FIELD_CHARSET,
    FIELD_ENUM,
    FIELD_PATTERN,
    FIELD_REQUIRED,
    FIELD_TYPE,
    custom,
)
from chalicelib.domain.printable_text import first_refused, refused_text_error

T = TypeVar("T")


def _printable(value: str) -> str:
    # The domain's rule for text that prints (it also refuses everything XML 1.0 cannot carry), so
    # an incoming message cannot bring in what the JSON API refuses, and none is ever written.
    refused = first_refused(value)
    if refused is not None:
        error = refused_text_error(*refused)
        raise custom(FIELD_CHARSET, error.message, error.message_zh)
    return value


def _empty_to_none(value: object) -> object:
    """Optional elements are omitted when empty, so an empty string means "absent"."""
    return None if value == "" else value


#: An optional element: ``None`` (or ``""``) means the element is left out of the XML.
Opt = Annotated[T | None, BeforeValidator(_empty_to_none)]


def _text(max_length: int, min_length: int = 1) -> StringConstraints:
    return StringConstraints(min_length=min_length, max_length=max_length)


_PRINTABLE = AfterValidator(_printable)

Text2 = Annotated[str, _text(2), _PRINTABLE]
Text4 = Annotated[str, _text(4), _PRINTABLE]
Text6 = Annotated[str, _text(6), _PRINTABLE]
Text10 = Annotated[str, _text(10), _PRINTABLE]
Text16 = Annotated[str, _text(16), _PRINTABLE]
Text20 = Annotated[str, _text(20), _PRINTABLE]
Text26 = Annotated[str, _text(26), _PRINTABLE]
Text30 = Annotated[str, _text(30), _PRINTABLE]
Text40 = Annotated[str, _text(40), _PRINTABLE]
Text50 = Annotated[str, _text(50), _PRINTABLE]
Text60 = Annotated[str, _text(60), _PRINTABLE]
Text80 = Annotated[str, _text(80), _PRINTABLE]
Text100 = Annotated[str, _text(100), _PRINTABLE]
Text120 = Annotated[str, _text(120), _PRINTABLE]
Text200 = Annotated[str, _text(200), _PRINTABLE]
Text400 = Annotated[str, _text(400), _PRINTABLE]


_XSD_SPACES = " \t\r\n"  # XML whitespace; U+3000 and the like are content


def _not_blank(value: str) -> str:
    # CancelReason/VoidReason are whiteSpace="collapse" with minLength 1 in the XSD: spaces alone
    # collapse to nothing and fail the official validation.
    if not value.strip(_XSD_SPACES):
        raise custom(FIELD_REQUIRED, "is required and may not be blank", "為必填欄位，不得只有空白")
    return value


#: A reason (作廢原因, 註銷原因): 1–20 characters, not only spaces.
Reason20 = Annotated[str, _text(20), _PRINTABLE, AfterValidator(_not_blank)]
#: A remark the schema collapses and then needs one character of (A0202's Remark).
Remark200 = Annotated[str, _text(200), _PRINTABLE, AfterValidator(_not_blank)]
Text500 = Annotated[str, _text(500), _PRINTABLE]

#: 統一編號 (UBN): 8 digits, digits only in MIG 4.1.
Ban = Annotated[str, StringConstraints(pattern=r"^[0-9]{8}$")]
#: A buyer: a UBN or ten zeros for a consumer (B2C).
BuyerBan = Annotated[str, StringConstraints(pattern=r"^(?:[0-9]{8}|0000000000)$")]
#: Track + serial, e.g. ``AB12345678``.
InvoiceNumber = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}[0-9]{8}$")]
#: 字軌 (track): 2 upper-case letters.
Track = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
#: An 8-digit invoice serial (begin/end numbers of a range).
SerialNo = Annotated[str, StringConstraints(pattern=r"^[0-9]{8}$")]
#: Period code: 3-digit ROC year + even month, e.g. ``11312`` (reference §1.2).
YearMonth = Annotated[str, StringConstraints(pattern=r"^[0-9]{3}(?:02|04|06|08|10|12)$")]
#: 4-digit random number of an invoice.
RandomNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
#: ISO 4217 currency code.


def _currency_codes() -> frozenset[str]:
    # The MOF's own CurrencyCodeEnum (ISO 4217 as the MIG 4.1 XSD lists it), read from the vendored
    # schema so the list cannot drift from it; a code outside it fails the official validation.
    tree = etree.parse(str(Path(__file__).parent / "xsd" / "common" / "GenericType_4.0.xsd"))
    xs = "{http://www.w3.org/2001/XMLSchema}"
    found = tree.find(f"{xs}simpleType[@name='CurrencyCodeEnum']")
    return frozenset(e.get("value") for e in found.iter(f"{xs}enumeration")) if found is not None else frozenset()


CURRENCY_CODES = _currency_codes()


def _currency(value: str) -> str:
    if value not in CURRENCY_CODES:
        raise custom(FIELD_ENUM, "is not a currency code of the MIG 4.1 list", "不是 MIG 4.1 幣別代碼表中的幣別")
    return value


Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), AfterValidator(_currency)]

InvoiceTypeCode = Literal["07", "08"]
#: Invoice-level 課稅別 (§3.1); 9 = mixed.
TaxTypeCode = Literal["1", "2", "3", "4", "9"]
#: Item-level 課稅別; 9 exists only at invoice level.
ItemTaxTypeCode = Literal["1", "2", "3", "4"]
DonateMarkCode = Literal["0", "1"]
PrintMarkCode = Literal["Y", "N"]
BuyerRemarkCode = Literal["1", "2", "3", "4"]
CustomsClearanceMarkCode = Literal["1", "2"]
BondedAreaConfirmCode = Literal["1", "2", "3", "4"]
ZeroTaxRateReasonCode = Literal["71", "72", "73", "74", "75", "76", "77", "78", "79"]
# ⚠️ GroupMark literal is unverified (reference §11): RS emits `*`, Amego accepts `*` or empty.
# Safer reading: the only value we write or accept is `*`; "empty" means the element is omitted.
GroupMarkCode = Literal["*"]


# --- dates and times ----------------------------------------------------------------------------

_DATE_RE = re.compile(r"[0-9]{8}")
_TIME_RE = re.compile(r"[0-9]{2}:[0-9]{2}:[0-9]{2}")


def _to_date(value: object) -> object:
    if isinstance(value, dt.datetime):
        raise custom(FIELD_TYPE, "must be a date, not a date and time", "必須為日期，而非日期時間")
    if isinstance(value, str):
        if not _DATE_RE.fullmatch(value):
            raise custom(FIELD_PATTERN, "must be a date written YYYYMMDD", "日期格式必須為 YYYYMMDD")
        try:
            return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            raise custom(FIELD_PATTERN, "is not a calendar date", "不是有效的日期") from None
    if not isinstance(value, dt.date):
        raise custom(FIELD_TYPE, "must be a date (or a YYYYMMDD string)", "必須為日期（或 YYYYMMDD 字串）")
    return value


def _to_time(value: object) -> object:
    if isinstance(value, str):
        if not _TIME_RE.fullmatch(value):
            raise custom(FIELD_PATTERN, "must be a time written HH:MM:SS", "時間格式必須為 HH:MM:SS")
        try:
            return dt.time(int(value[:2]), int(value[3:5]), int(value[6:]))
        except ValueError:
            raise custom(FIELD_PATTERN, "is not a valid time of day", "不是有效的時間") from None
    if isinstance(value, dt.time) and (value.tzinfo is not None or value.microsecond):
        raise custom(
            FIELD_PATTERN,
            "must be a local time in whole seconds (HH:MM:SS)",
            "必須為不含時區、精確到秒的時間 (HH:MM:SS)",
        )
    if not isinstance(value, dt.time):
        raise custom(FIELD_TYPE, "must be a time (or an HH:MM:SS string)", "必須為時間（或 HH:MM:SS 字串）")
    return value


def _date_in_range(value: dt.date) -> dt.date:
    if value.year < 1000:
        raise custom(FIELD_PATTERN, "must be a date written YYYYMMDD", "日期格式必須為 YYYYMMDD")
    return value


#: Gregorian date, written ``YYYYMMDD``.
MigDate = Annotated[dt.date, BeforeValidator(_to_date), AfterValidator(_date_in_range)]
#: Time of day, written ``HH:MM:SS``.
MigTime = Annotated[dt.time, BeforeValidator(_to_time)]


# --- decimals -----------------------------------------------------------------------------------

# xsd:decimal lexical space: no exponent, no NaN/Infinity.
_XSD_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def _to_decimal(value: object) -> object:
    if isinstance(value, bool | float):
        raise custom(
            FIELD_TYPE,
            "must be a Decimal, an int or a decimal string (never a float)",
            "必須為 Decimal、整數或十進位字串（不可為浮點數）",
        )
    if isinstance(value, str):
        if not _XSD_DECIMAL.fullmatch(value):
            raise custom(FIELD_PATTERN, "is not a plain decimal number", "不是有效的十進位數字")
        return Decimal(value)
    return value


_DEC = BeforeValidator(_to_decimal)

#: decimal, totalDigits 20, fractionDigits 7 (quantities, prices, amounts).
Dec20_7 = Annotated[Decimal, _DEC, Field(max_digits=20, decimal_places=7, allow_inf_nan=False)]
#: the same with minInclusive 0.
NonNegDec20_7 = Annotated[Decimal, _DEC, Field(max_digits=20, decimal_places=7, ge=0, allow_inf_nan=False)]
#: integer amount (totalDigits 20, fractionDigits 0), e.g. TaxAmount, allowance Tax.
Int20 = Annotated[Decimal, _DEC, Field(max_digits=20, decimal_places=0, allow_inf_nan=False)]
NonNegInt20 = Annotated[Decimal, _DEC, Field(max_digits=20, decimal_places=0, ge=0, allow_inf_nan=False)]
#: ExchangeRate: decimal(13,5), non-negative.
NonNegDec13_5 = Annotated[Decimal, _DEC, Field(max_digits=13, decimal_places=5, ge=0, allow_inf_nan=False)]

# The TaxRate enumeration of the official MIG 4.1 XSD (GenericType_4.0.xsd TaxRateEnum):
# 0/0.01/0.02/0.05/0.15/0.25, compared by value so `0.050` equals `0.05`. The 0.001 of the
# special-tax table is not in it, so an F0401 carrying it would fail the MOF's validation.
TAX_RATES: frozenset[Decimal] = frozenset(Decimal(rate) for rate in ("0", "0.01", "0.02", "0.05", "0.15", "0.25"))


def _tax_rate(value: Decimal) -> Decimal:
    if value not in TAX_RATES:
        allowed = ", ".join(format(rate, "f") for rate in sorted(TAX_RATES))
        raise custom(FIELD_ENUM, f"must be one of {allowed}", f"必須為下列值之一：{allowed}")
    return value


TaxRate = Annotated[Decimal, _DEC, Field(max_digits=20, decimal_places=7), AfterValidator(_tax_rate)]


def render_decimal(value: Decimal) -> str:
    """Plain notation without exponent or superfluous zeros: ``105``, ``0.05``, ``1.5``, ``0``."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")
