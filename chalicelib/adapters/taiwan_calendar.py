"""Taiwan's working calendar (the 行政院人事行政總處 office calendar) from the ``holidays`` package.

The package keeps the national holidays, the bridge days off and the make-up working days
(補行上班日, e.g. Saturday 2024-02-17) that the office calendar announces each year; tests check it
against that calendar for 2024–2026. Days staff override (typhoon days, announced changes) win.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from typing import Any

import holidays


@lru_cache(maxsize=1)
def _national() -> Any:
    # Years are filled in on demand (the package expands its cache as dates are asked about).
    return holidays.country_holidays("TW")


class TaiwanCalendar:
    """``WorkingCalendar`` (domain.working_days) for Taiwan."""

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        self._overrides = dict(overrides or {})

    def is_working_day(self, day: date) -> bool:
        if day in self._overrides:
            return self._overrides[day]
        return bool(_national().is_working_day(day))
