"""Invoice numbers (發票號碼), tracks (字軌) and the allocated ranges they are drawn from.

A number is a 2-letter track plus an 8-digit serial (``AB12345678``). The tax office allocates
(配號) numbers per period and invoice type in booklets (本) of 50, so an allocated range always
starts at a serial ending in 00 or 50 and ends at one ending in 49 or 99.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from chalicelib.domain.errors import Conflict, InvalidInput
from chalicelib.domain.invoice_type import InvoiceType
from chalicelib.domain.period import Period

__all__ = [
    "BOOKLET_SIZE",
    "Booklet",
    "InvoiceNumber",
    "InvoiceType",
    "TrackRange",
    "ensure_no_overlap",
    "validate_serial",
    "validate_track",
]

BOOKLET_SIZE = 50
_NUMBER_PATTERN = re.compile(r"([A-Z]{2})([0-9]{8})")
_TRACK_PATTERN = re.compile(r"[A-Z]{2}")
_SERIAL_PATTERN = re.compile(r"[0-9]{8}")
_MASKED_DIGITS = 3  # donated invoices hide the last 3 digits (API v1.6 change note)


def validate_track(value: object, field: str = "track") -> str:
    """Return ``value`` if it is a track (字軌): two uppercase ASCII letters; else ``INVALID_TRACK``."""
    if isinstance(value, str) and _TRACK_PATTERN.fullmatch(value):
        return value
    raise InvalidInput(
        "INVALID_TRACK",
        "A track is two uppercase letters, e.g. AB.",
        "字軌須為 2 個大寫英文字母，例如 AB。",
        field,
    )


def validate_serial(value: object, field: str) -> int:
    """Parse an 8-digit serial (``00000000``-``99999999``); raise ``INVALID_INVOICE_SERIAL`` otherwise."""
    if isinstance(value, str) and _SERIAL_PATTERN.fullmatch(value):
        return int(value)
    raise InvalidInput(
        "INVALID_INVOICE_SERIAL",
        "An invoice serial is exactly 8 digits.",
        "發票號碼須為 8 位數字。",
        field,
    )


@dataclass(frozen=True, order=True, slots=True)
class InvoiceNumber:
    """A 10-character invoice number, e.g. ``AB12345678``."""

    value: str

    def __post_init__(self) -> None:
        if not _NUMBER_PATTERN.fullmatch(self.value):
            raise InvalidInput(
                "INVALID_INVOICE_NUMBER",
                "An invoice number is 2 uppercase letters and 8 digits, e.g. AB12345678.",
                "發票號碼須為 2 個大寫英文字母加 8 位數字，例如 AB12345678。",
                "invoice_number",
            )

    @classmethod
    def parse(cls, value: object, field: str = "invoice_number") -> InvoiceNumber:
        try:
            return cls(value if isinstance(value, str) else "")
        except InvalidInput as error:
            raise InvalidInput(error.code, error.message, error.message_zh, field) from None

    @classmethod
    def from_parts(cls, track: str, serial: int) -> InvoiceNumber:
        return cls(f"{track}{serial:08d}")

    @property
    def track(self) -> str:
        return self.value[:2]

    @property
    def serial(self) -> str:
        return self.value[2:]

    @property
    def serial_int(self) -> int:
        return int(self.value[2:])

    @property
    def display(self) -> str:
        """As printed on the proof of invoice: ``AB-12345678``."""
        return f"{self.track}-{self.serial}"

    @property
    def masked_display(self) -> str:
        """Display form for a donated invoice, whose last 3 digits must be hidden: ``AB-12345***``."""
        return f"{self.track}-{self.serial[:-_MASKED_DIGITS]}{'*' * _MASKED_DIGITS}"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, order=True, slots=True)
class Booklet:
    """One booklet (本): 50 consecutive numbers of a track."""

    track: str
    begin: int
    end: int

    @property
    def first_number(self) -> InvoiceNumber:
        return InvoiceNumber.from_parts(self.track, self.begin)

    @property
    def last_number(self) -> InvoiceNumber:
        return InvoiceNumber.from_parts(self.track, self.end)

    def contains(self, number: InvoiceNumber) -> bool:
        return number.track == self.track and self.begin <= number.serial_int <= self.end


def _invalid_range(message: str, message_zh: str, field: str) -> InvalidInput:
    return InvalidInput("INVALID_TRACK_RANGE", message, message_zh, field)


@dataclass(frozen=True, slots=True)
class TrackRange:
    """A range of invoice numbers allocated for one period, invoice type and track.

    ``begin`` and ``end`` are inclusive serials. Build one with :meth:`create` to get field-level errors.
    """

    period: Period
    invoice_type: InvoiceType
    track: str
    begin: int
    end: int

    def __post_init__(self) -> None:
        validate_track(self.track)
        if self.begin % BOOKLET_SIZE != 0:
            raise _invalid_range(
                "An allocated range starts at a number ending in 00 or 50.",
                "配號起號須以 00 或 50 結尾。",
                "begin_no",
            )
        if self.end % BOOKLET_SIZE != BOOKLET_SIZE - 1:
            raise _invalid_range(
                "An allocated range ends at a number ending in 49 or 99.",
                "配號迄號須以 49 或 99 結尾。",
                "end_no",
            )
        if not 0 <= self.begin < self.end <= 99_999_999:
            raise _invalid_range(
                "The last number must come after the first one.",
                "迄號須大於起號。",
                "end_no",
            )

    @classmethod
    def create(
        cls,
        period: Period,
        invoice_type: InvoiceType,
        track: object,
        begin_no: object,
        end_no: object,
    ) -> TrackRange:
        """Validate API-shaped input (``track``, ``begin_no``, ``end_no`` as strings) into a range."""
        return cls(
            period,
            invoice_type,
            validate_track(track),
            validate_serial(begin_no, "begin_no"),
            validate_serial(end_no, "end_no"),
        )

    @property
    def count(self) -> int:
        return self.end - self.begin + 1

    @property
    def booklet_count(self) -> int:
        return self.count // BOOKLET_SIZE

    @property
    def begin_no(self) -> str:
        return f"{self.begin:08d}"

    @property
    def end_no(self) -> str:
        return f"{self.end:08d}"

    def booklets(self) -> tuple[Booklet, ...]:
        """The range split into its booklets of 50, in order."""
        return tuple(
            Booklet(self.track, start, start + BOOKLET_SIZE - 1)
            for start in range(self.begin, self.end + 1, BOOKLET_SIZE)
        )

    def contains(self, number: InvoiceNumber) -> bool:
        return number.track == self.track and self.begin <= number.serial_int <= self.end

    def overlaps(self, other: TrackRange) -> bool:
        """Whether both ranges share a number.

        The invoice type is ignored on purpose: a number is identified by period, track and serial, so
        the same number allocated once as 07 and once as 08 would still be a duplicate.
        """
        return (
            self.period == other.period
            and self.track == other.track
            and self.begin <= other.end
            and other.begin <= self.end
        )


def ensure_no_overlap(candidate: TrackRange, existing: Iterable[TrackRange]) -> None:
    """Raise ``Conflict`` (``TRACK_RANGE_OVERLAP``) if ``candidate`` shares a number with another range."""
    for other in existing:
        if candidate.overlaps(other):
            raise Conflict(
                "TRACK_RANGE_OVERLAP",
                f"Numbers {other.track}{other.begin_no}-{other.end_no} of period {other.period} are already allocated.",
                f"{other.period} 期 {other.track}{other.begin_no}-{other.end_no} 已經配號。",
                "begin_no",
            )


def range_id(track_range: TrackRange) -> str:
    """The range's id as the API names it (``track_id``): period, type, track and first number."""
    return f"{track_range.period.code}-{track_range.invoice_type.value}-{track_range.track}-{track_range.begin_no}"
