"""CSV files people open in Excel: UTF-8 with a BOM (without it Excel reads Big5 and garbles the
Chinese), one header row naming each column in zh-TW and English, CRLF line ends.

Text cells come from other people (a seller's name, a cancellation reason): one that starts like a
formula (``=``, ``+``, ``-``, ``@``, a tab or CR) is written with a leading ``'`` so a spreadsheet
shows it instead of running it (CSV injection). Amounts are ``Decimal`` and written in plain
notation, never through a float; they are not text and are never prefixed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

BOM = "\ufeff"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | Decimal | date | int | None


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):  # pragma: no cover - no column holds one
        raise TypeError("a CSV cell is text, an amount or a date")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def header_cell(zh: str, en: str) -> str:
    return f"{zh} / {en}"


def bilingual_csv(columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Cell]]) -> bytes:
    """The file: BOM, the ``zh / en`` header row, then one line per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([header_cell(zh, en) for zh, en in columns])
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(f"a row of {len(row)} cells for {len(columns)} columns")
        writer.writerow([_cell(value) for value in row])
    return (BOM + buffer.getvalue()).encode("utf-8")
