"""Reusable checks for request fields: printable text and decimal numbers in the MIG's limits."""

from __future__ import annotations

import re
from decimal import Decimal

from pydantic import AfterValidator, BeforeValidator, Field

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.printable_text import printable_text
from chalicelib.domain.validation import as_pydantic_error

#: MIG ``decimal(20,7)``: at most 20 significant digits, 7 of them after the point.
MAX_TOTAL_DIGITS = 20
MAX_FRACTION_DIGITS = 7

# Plain notation only: Decimal() would also take " 65", "1_000", "1e3" and "NaN".
_DECIMAL_PATTERN = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def digit_counts(value: Decimal) -> tuple[int, int]:
    """``(total, fraction)`` significant digits as XSD ``totalDigits``/``fractionDigits`` count them."""
    sign_, digits, exponent = value.as_tuple()
    del sign_
    if not isinstance(exponent, int):  # "n", "N" or "F": NaN or infinity
        raise ValueError(f"not a finite decimal: {value}")
    digit_list = list(digits)
    while exponent < 0 and digit_list and digit_list[-1] == 0:
        digit_list.pop()
        exponent += 1
    fraction = max(0, -exponent)
    integer = int(abs(value))
    integer_digits = len(str(integer)) if integer else 0
    return integer_digits + fraction, fraction


def fits_mig_decimal(value: Decimal) -> bool:
    total, fraction = digit_counts(value)
    return total <= MAX_TOTAL_DIGITS and fraction <= MAX_FRACTION_DIGITS


def parse_decimal(value: object, *, code: str, label: str, label_zh: str, field: str = "") -> Decimal:
    """Parse a decimal string or integer (never a float, whose binary value is not the number meant)."""
    text: str | None = None
    if isinstance(value, str):
        text = value
    elif isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    if text is None or not _DECIMAL_PATTERN.fullmatch(text):
        raise InvalidInput(
            code,
            f"{label} must be a decimal number written as a string or an integer (no floats).",
            f"{label_zh}須為以字串或整數表示的十進位數字（不接受浮點數）。",
            field,
        )
    number = Decimal(text)
    if not fits_mig_decimal(number):
        raise InvalidInput(
            code,
            f"{label} allows at most {MAX_TOTAL_DIGITS} digits, {MAX_FRACTION_DIGITS} after the point.",
            f"{label_zh}最多 {MAX_TOTAL_DIGITS} 位數字，小數最多 {MAX_FRACTION_DIGITS} 位。",
            field,
        )
    return number


def check_printable(value: str) -> str:
    """:func:`~chalicelib.domain.printable_text.printable_text` as a pydantic ``AfterValidator``."""
    try:
        return printable_text(value)
    except InvalidInput as error:
        raise as_pydantic_error(error) from None


def printable(max_length: int, *, min_length: int = 0) -> tuple[object, ...]:
    """Metadata for free text that prints on a document (invoice, allowance, PDF, MIG XML, e-mail,
    console): ``Annotated[str, *printable(60, min_length=1)]``. No control, BOM or bidi character
    (``INVALID_CHARACTERS``, see :mod:`chalicelib.domain.printable_text`).

    The length limits are part of it because pydantic applies a ``Field`` placed *after* a
    validator as a limit on items (``TOO_MANY_ITEMS``), not on characters.
    """
    return (Field(min_length=min_length, max_length=max_length), AfterValidator(check_printable))


def check_text(value: str) -> str:
    """Refuse blank text and characters that must not print (pydantic ``AfterValidator``)."""
    if not value.strip():
        raise as_pydantic_error(InvalidInput("EMPTY_VALUE", "This field must not be blank.", "此欄位不可為空白。"))
    return check_printable(value)


def decimal_field(code: str, label: str, label_zh: str, *, positive: bool) -> BeforeValidator:
    """Pydantic validator for a decimal request field (``Annotated[Decimal, decimal_field(...)]``)."""

    def parse(value: object) -> Decimal:
        try:
            number = parse_decimal(value, code=code, label=label, label_zh=label_zh)
        except InvalidInput as error:
            raise as_pydantic_error(error) from None
        if positive and number <= 0:
            raise as_pydantic_error(InvalidInput(code, f"{label} must be greater than 0.", f"{label_zh}須大於 0。"))
        return number

    return BeforeValidator(parse)
