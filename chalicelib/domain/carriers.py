"""Carriers (載具): where a consumer keeps an invoice instead of a paper proof.

A carrier has a type code (``CarrierType``) and an id; the MIG stores a visible id (``CarrierId1``,
顯碼) and a hidden one (``CarrierId2``, 隱碼). For the public carriers both are the same value; member
carriers (會員載具) of a merchant may use an e-mail or phone as visible id and an internal id as hidden.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, model_validator

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.printable_text import first_refused, refused_text_error
from chalicelib.domain.validation import as_pydantic_error

MOBILE_BARCODE = "3J0002"
"""手機條碼: the MOF's common carrier, ``/`` + 7 characters."""
CITIZEN_CERTIFICATE = "CQ0001"
"""自然人憑證條碼: citizen digital certificate barcode, 2 letters + 14 digits."""
EASYCARD = "1K0001"
"""悠遊卡."""
IPASS = "1H0001"
"""一卡通."""

PUBLIC_CARRIER_TYPES = frozenset({MOBILE_BARCODE, CITIZEN_CERTIFICATE, EASYCARD, IPASS})

#: CarrierId1/CarrierId2 length in MIG 4.x (it was 64 in 3.x).
MAX_CARRIER_ID_LENGTH = 400

_MOBILE_BARCODE = re.compile(r"/[0-9A-Z.+-]{7}")
_CITIZEN_CERTIFICATE = re.compile(r"[A-Z]{2}[0-9]{14}")
# Member-carrier type codes are assigned by the platform: industry letter, category letter, 4-digit serial.
_MEMBER_TYPE = re.compile(r"[A-Z]{2}[0-9]{4}")


class CarrierKind(StrEnum):
    MOBILE_BARCODE = "mobile_barcode"
    CITIZEN_CERTIFICATE = "citizen_certificate"
    EASYCARD = "easycard"
    IPASS = "ipass"
    MEMBER = "member"


_PUBLIC_KINDS = {
    MOBILE_BARCODE: CarrierKind.MOBILE_BARCODE,
    CITIZEN_CERTIFICATE: CarrierKind.CITIZEN_CERTIFICATE,
    EASYCARD: CarrierKind.EASYCARD,
    IPASS: CarrierKind.IPASS,
}


def carrier_kind(carrier_type: str) -> CarrierKind | None:
    """The kind of carrier a type code denotes, or ``None`` for an unknown code.

    The cross-border e-mail carrier ``5G0001`` is deliberately unknown: only one source names it and it
    serves foreign e-commerce sellers, not the domestic merchants of this platform.
    """
    if carrier_type in _PUBLIC_KINDS:
        return _PUBLIC_KINDS[carrier_type]
    if _MEMBER_TYPE.fullmatch(carrier_type):
        return CarrierKind.MEMBER
    return None


@dataclass(frozen=True, slots=True)
class CarrierCheck:
    """Outcome of a format check; ``code``/``field`` say what failed when ``valid`` is false."""

    valid: bool
    reason: str | None = None
    reason_zh: str | None = None
    code: str | None = None
    field: str | None = None


_OK = CarrierCheck(valid=True)


def _bad_type(reason: str, reason_zh: str) -> CarrierCheck:
    return CarrierCheck(False, reason, reason_zh, "INVALID_CARRIER_TYPE", "type")


def _bad_id(reason: str, reason_zh: str, field: str = "id") -> CarrierCheck:
    return CarrierCheck(False, reason, reason_zh, "INVALID_CARRIER", field)


def _check_free_form(value: str, field: str, what: str, what_zh: str) -> CarrierCheck:
    if not value.strip():
        return _bad_id(f"The {what} must not be empty.", f"{what_zh}不可為空白。", field)
    refused = first_refused(value)  # a member carrier's id prints on the A4 invoice
    if refused is not None:
        error = refused_text_error(*refused)
        return CarrierCheck(False, error.message, error.message_zh, error.code, field)
    if len(value) > MAX_CARRIER_ID_LENGTH:
        return _bad_id(
            f"The {what} has at most {MAX_CARRIER_ID_LENGTH} characters.",
            f"{what_zh}長度不可超過 {MAX_CARRIER_ID_LENGTH} 個字元。",
            field,
        )
    return _OK


def check_carrier(carrier_type: object, carrier_id: object, hidden_id: object = None) -> CarrierCheck:
    """Check the *format* of a carrier; never raises, so the look-up route can report the reason.

    Existence of a mobile barcode needs the MOF ``bcv`` look-up; this is syntax only.
    """
    if not isinstance(carrier_type, str) or not carrier_type:
        return _bad_type("The carrier type is required.", "載具類別為必填。")
    kind = carrier_kind(carrier_type)
    if kind is None:
        return _bad_type(
            f"Unknown carrier type {carrier_type!r}; use 3J0002, CQ0001, 1K0001, 1H0001 or a member code.",
            f"不支援的載具類別 {carrier_type!r}；請使用 3J0002、CQ0001、1K0001、1H0001 或會員載具類別。",
        )
    if not isinstance(carrier_id, str) or not carrier_id:
        return _bad_id("The carrier id is required.", "載具號碼為必填。")
    result = _check_id(kind, carrier_id)
    if result.valid and kind is CarrierKind.MEMBER and hidden_id is not None:
        if not isinstance(hidden_id, str):
            return _bad_id("The hidden carrier id must be text.", "載具隱碼須為文字。", "hidden_id")
        return _check_free_form(hidden_id, "hidden_id", "hidden carrier id", "載具隱碼")
    return result


def _check_id(kind: CarrierKind, carrier_id: str) -> CarrierCheck:
    if kind is CarrierKind.MOBILE_BARCODE:
        return _check_mobile_barcode(carrier_id)
    if kind is CarrierKind.CITIZEN_CERTIFICATE:
        if _CITIZEN_CERTIFICATE.fullmatch(carrier_id):
            return _OK
        return _bad_id(
            "A citizen certificate barcode is 2 uppercase letters and 14 digits.",
            "自然人憑證條碼須為 2 個大寫英文字母加 14 位數字。",
        )
    return _check_free_form(carrier_id, "id", "carrier id", "載具號碼")


def _check_mobile_barcode(value: str) -> CarrierCheck:
    if _MOBILE_BARCODE.fullmatch(value):
        return _OK
    if " " in value and _MOBILE_BARCODE.fullmatch(value.replace(" ", "+")):
        # a '+' sent unencoded in a query string arrives as a space
        return _bad_id(
            "A mobile barcode has no spaces; a '+' was probably not percent-encoded (%2B).",
            "手機條碼不含空白；「+」可能未經 URL 編碼（%2B）。",
        )
    return _bad_id(
        "A mobile barcode is '/' followed by 7 characters from 0-9, A-Z, '.', '+', '-'.",
        "手機條碼須為「/」加 7 碼（0-9、A-Z、.、+、-）。",
    )


def validate_carrier(carrier_type: object, carrier_id: object, hidden_id: object = None) -> None:
    """Like :func:`check_carrier` but raises ``InvalidInput`` with ``field`` relative to the carrier."""
    result = check_carrier(carrier_type, carrier_id, hidden_id)
    if not result.valid:
        raise InvalidInput(
            result.code or "INVALID_CARRIER",
            result.reason or "Invalid carrier.",
            result.reason_zh or "載具格式不正確。",
            result.field,
        )


class Carrier(BaseModel):
    """A carrier as the API takes it: ``{"type": "3J0002", "id": "/ABC+123"}``.

    ``hidden_id`` (載具隱碼) is only meaningful for member carriers; it defaults to ``id``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    id: str
    hidden_id: str | None = None

    @model_validator(mode="after")
    def _check_format(self) -> Carrier:
        try:
            validate_carrier(self.type, self.id, self.hidden_id)
        except InvalidInput as error:
            raise as_pydantic_error(error) from None
        if self.hidden_id is not None and self.kind is not CarrierKind.MEMBER and self.hidden_id != self.id:
            raise as_pydantic_error(
                InvalidInput(
                    "INVALID_CARRIER",
                    "Only member carriers have a hidden id different from the visible one.",
                    "僅會員載具的隱碼可與顯碼不同。",
                    "hidden_id",
                )
            )
        return self

    @property
    def kind(self) -> CarrierKind:
        kind = carrier_kind(self.type)
        if kind is None:  # the validator already refused unknown types
            raise ValueError(self.type)
        return kind

    @property
    def id1(self) -> str:
        """MIG ``CarrierId1`` (visible id, 顯碼)."""
        return self.id

    @property
    def id2(self) -> str:
        """MIG ``CarrierId2`` (hidden id, 隱碼)."""
        return self.hidden_id if self.hidden_id is not None else self.id
