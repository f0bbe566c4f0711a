"""Invoice period (期別): the two-month span an invoice belongs to, named by its even closing month.

The MOF code is the ROC year (民國年 = Gregorian year - 1911) in 3 digits plus the even month in
2 digits: Nov-Dec 2024 is ``11312`` (not ``11311``).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from chalicelib.domain.errors import InvalidInput

#: Taiwan time (UTC+8, no daylight saving): invoice dates, periods and deadlines are in it.
TAIWAN_TZ = timezone(timedelta(hours=8), "Asia/Taipei")

ROC_EPOCH_OFFSET = 1911
_CODE_PATTERN = re.compile(r"([0-9]{3})([0-9]{2})")
_MAX_ROC_YEAR = 999  # the code has 3 digits for the year
_FILING_DAY = 15  # VAT Act §35: the return is due by the 15th of the next period's first month
_BLANK_NUMBER_DAY = 10  # unused numbers (E0402) are due within 10 days of the next period


def _invalid_period(field: str) -> InvalidInput:
    return InvalidInput(
        "INVALID_PERIOD",
        "A period is the ROC year (3 digits) plus an even month, e.g. 11312 for Nov-Dec 2024.",
        "期別須為民國年 3 碼加雙數月 2 碼，例如 11312 代表 113 年 11-12 月。",
        field,
    )


@dataclass(frozen=True, order=True, slots=True)
class Period:
    """One bimonthly invoice period; ``end_month`` is the even month that names it."""

    roc_year: int
    end_month: int

    def __post_init__(self) -> None:
        if not (1 <= self.roc_year <= _MAX_ROC_YEAR) or self.end_month not in range(2, 13, 2):
            raise _invalid_period("period")

    @classmethod
    def parse(cls, code: object, field: str = "period") -> Period:
        """Parse a 5-digit code such as ``11312``; ``11311`` or ``11313`` raise ``INVALID_PERIOD``."""
        match = _CODE_PATTERN.fullmatch(code) if isinstance(code, str) else None
        if match is None:
            raise _invalid_period(field)
        roc_year, month = int(match.group(1)), int(match.group(2))
        if roc_year < 1 or month not in range(2, 13, 2):
            raise _invalid_period(field)
        return cls(roc_year, month)

    @classmethod
    def from_date(cls, day: date) -> Period:
        """The period an invoice dated ``day`` belongs to (the invoice date decides the period)."""
        roc_year = day.year - ROC_EPOCH_OFFSET
        if roc_year < 1:
            raise InvalidInput(
                "INVALID_DATE",
                "Dates before 1912 have no invoice period.",
                "民國元年以前的日期沒有發票期別。",
                "invoice_date",
            )
        return cls(roc_year, (day.month + 1) // 2 * 2)

    @property
    def code(self) -> str:
        return f"{self.roc_year:03d}{self.end_month:02d}"

    @property
    def year(self) -> int:
        """Gregorian year."""
        return self.roc_year + ROC_EPOCH_OFFSET

    @property
    def start_month(self) -> int:
        return self.end_month - 1

    @property
    def first_day(self) -> date:
        return date(self.year, self.start_month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.end_month, calendar.monthrange(self.year, self.end_month)[1])

    @property
    def label_zh(self) -> str:
        """As printed on the proof of invoice (電子發票證明聯): ``113年11-12月``."""
        return f"{self.roc_year}年{self.start_month:02d}-{self.end_month:02d}月"

    @property
    def filing_deadline(self) -> date:
        """The statutory day to file the business-tax return (401): the 15th of the next odd month.

        The deadline a merchant is held to moves off a day off: ``working_days.filing_deadline``."""
        return self.next().first_day.replace(day=_FILING_DAY)

    @property
    def blank_number_deadline(self) -> date:
        """The statutory day to upload the unused numbers (E0402): the 10th of the next odd month.

        Moved off a day off by ``working_days.blank_number_deadline``."""
        return self.next().first_day.replace(day=_BLANK_NUMBER_DAY)

    def contains(self, day: date) -> bool:
        if isinstance(day, datetime):
            # a datetime is a date, but comparing it with one raises TypeError
            day = day.date()
        return self.first_day <= day <= self.last_day

    def next(self) -> Period:
        if self.end_month == 12:
            return Period(self.roc_year + 1, 2)
        return Period(self.roc_year, self.end_month + 2)

    def previous(self) -> Period:
        if self.end_month == 2:
            return Period(self.roc_year - 1, 12)
        return Period(self.roc_year, self.end_month - 2)

    def __str__(self) -> str:
        return self.code
