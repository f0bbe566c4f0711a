"""The MOF open-data business registration file (全國營業(稅籍)登記資料集, ``BGMOPEN1.csv``).

What the file looks like, and why each rule below exists:

- The header names the columns; the second line is a date stamp of the extract such as
  ``10-APR-23,,,,`` (not a business), which is skipped and reported as the file's stamp.
- UTF-8, sometimes with a BOM (files re-saved by Excel); fields may be quoted, and quoted names
  and addresses may contain commas.
- A UBN may appear on several rows. The head-office row has 總機構統一編號 empty (or its own UBN);
  branch rows carry their head office's UBN there. The head-office row is kept, else the first.
- The suspended-business extract (``BGMOPEN1X``) has an extra column 停業日期 after 組織別名稱.
  Columns are found by name, so both layouts parse alike; its records are ``suspended``.
- A row whose UBN fails the check digit, or that lacks a name, is reported with its line number
  and reason instead of being imported, so one bad row never blocks a whole import.

Pure: bytes in, records and rejected rows out.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.printable_text import first_refused, refused_text_error
from chalicelib.domain.tax_registry import RegistrationStatus, TaxRegistration
from chalicelib.domain.ubn import is_valid_ubn

COLUMN_UBN = "統一編號"
COLUMN_HEAD_OFFICE = "總機構統一編號"
COLUMN_NAME = "營業人名稱"
COLUMN_ADDRESS = "營業地址"
COLUMN_SUSPENDED_ON = "停業日期"
REQUIRED_COLUMNS = (COLUMN_ADDRESS, COLUMN_UBN, COLUMN_HEAD_OFFICE, COLUMN_NAME)

#: The same limits a staff member's manual entry has (PUT /v1/admin/tax-registry/{ubn}).
MAX_NAME_LENGTH = 60
MAX_ADDRESS_LENGTH = 100

# 10-APR-23: the Oracle-style date the MOF extract is stamped with.
_STAMP = re.compile(r"[0-9]{1,2}-[A-Za-z]{3}-[0-9]{2,4}")
_EIGHT_DIGITS = re.compile(r"[0-9]{8}")
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


@dataclass(frozen=True)
class RejectedRow:
    line: int  # the file's line number where the row starts (the header is line 1)
    ubn: str
    reason: str
    reason_zh: str


@dataclass(frozen=True)
class ParsedRegistry:
    records: list[TaxRegistration]
    rejected: list[RejectedRow]
    stamp: str | None  # the extract's date stamp as written, e.g. "10-APR-23"
    stamp_date: date | None  # the same, parsed, when it is a real date
    suspended_file: bool  # the BGMOPEN1X layout (with 停業日期)
    duplicate_rows: int = 0  # further rows of a UBN already seen (branches), merged
    columns: tuple[str, ...] = field(default=())


@dataclass
class _Row:
    line: int
    cells: dict[str, str]


def _decode(data: bytes) -> str:
    try:
        # utf-8-sig drops a leading BOM and is plain UTF-8 otherwise.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "INVALID_CSV_ENCODING",
            f"The CSV is not UTF-8 (byte {exc.start}); save it as UTF-8 and upload again",
            f"CSV 檔案不是 UTF-8 編碼（第 {exc.start} 位元組）；請另存為 UTF-8 後重新上傳",
            "body",
        ) from exc


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each record with the line it starts on (quoted fields may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidInput(
                "MALFORMED_CSV",
                f"The CSV is malformed near line {start}: {exc}",
                f"CSV 格式錯誤（約第 {start} 行）：{exc}",
                "body",
            ) from exc
        yield start, cells


def _header(cells: Sequence[str]) -> tuple[str, ...]:
    columns = tuple(cell.strip().lstrip("\ufeff") for cell in cells)
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        names = "、".join(missing)
        raise InvalidInput(
            "INVALID_CSV_HEADER",
            f"The first line must be the registry file's header; missing column(s): {names}",
            f"第一行須為稅籍資料檔的欄位名稱；缺少欄位：{names}",
            "body",
        )
    if len(set(columns)) != len(columns):
        raise InvalidInput(
            "INVALID_CSV_HEADER",
            "The header names a column twice",
            "欄位名稱重複",
            "body",
        )
    return columns


def _clean(cell: str) -> str:
    # A line break inside a quoted address is layout, not content; other control characters
    # are left for _rejection to report.
    return _LINE_BREAKS.sub(" ", cell).strip()


def _is_stamp(cells: Sequence[str]) -> bool:
    return bool(cells) and bool(_STAMP.fullmatch(cells[0].strip())) and not any(c.strip() for c in cells[1:])


def _stamp_date(stamp: str) -> date | None:
    for pattern in ("%d-%b-%y", "%d-%b-%Y"):
        try:
            return datetime.strptime(stamp.title(), pattern).date()
        except ValueError:
            continue
    return None


def _rejection(row: _Row) -> RejectedRow | None:
    """Why a row cannot be imported (the first failed check), or None when it can."""
    ubn = row.cells[COLUMN_UBN]
    name = row.cells[COLUMN_NAME]
    address = row.cells[COLUMN_ADDRESS]
    checks: tuple[tuple[bool, str, str], ...] = (
        (not _EIGHT_DIGITS.fullmatch(ubn), "The UBN is not 8 digits", "統一編號不是 8 位數字"),
        (not is_valid_ubn(ubn), "The UBN's check digit is wrong", "統一編號檢查碼錯誤"),
        (not name, "The business name is empty", "營業人名稱空白"),
        (
            len(name) > MAX_NAME_LENGTH,
            f"The name exceeds {MAX_NAME_LENGTH} characters",
            f"營業人名稱超過 {MAX_NAME_LENGTH} 字",
        ),
        (
            len(address) > MAX_ADDRESS_LENGTH,
            f"The address exceeds {MAX_ADDRESS_LENGTH} characters",
            f"營業地址超過 {MAX_ADDRESS_LENGTH} 字",
        ),
    )
    for failed, reason, reason_zh in checks:
        if failed:
            return RejectedRow(row.line, ubn, reason, reason_zh)
    return _refused_characters(row.line, ubn, name, address)


def _refused_characters(line: int, ubn: str, name: str, address: str) -> RejectedRow | None:
    # The name and address print on every invoice of the business: the rule of all printed text.
    for column, label, label_zh, value in (
        (COLUMN_NAME, "name", "營業人名稱", name),
        (COLUMN_ADDRESS, "address", "營業地址", address),
    ):
        refused = first_refused(value)
        if refused is not None:
            error = refused_text_error(*refused)
            return RejectedRow(line, ubn, f"The {label} ({column}): {error.message}", f"{label_zh}：{error.message_zh}")
    return None


def _is_head_office(row: _Row) -> bool:
    head = row.cells[COLUMN_HEAD_OFFICE]
    return head in ("", row.cells[COLUMN_UBN])


def parse_registry_csv(data: bytes) -> ParsedRegistry:
    """Parse the registry extract. Raises ``InvalidInput`` only when the file as a whole is
    unusable (encoding, header, broken quoting); bad rows are returned in ``rejected``."""
    rows = _rows(_decode(data))
    first = next(rows, None)
    if first is None:
        raise InvalidInput("EMPTY_CSV", "The CSV is empty", "CSV 檔案沒有內容", "body")
    columns = _header(first[1])
    suspended_file = COLUMN_SUSPENDED_ON in columns
    status = RegistrationStatus.SUSPENDED if suspended_file else RegistrationStatus.ACTIVE

    stamp: str | None = None
    kept: dict[str, _Row] = {}
    rejected: list[RejectedRow] = []
    duplicates = 0
    for line, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, e.g. a trailing newline written twice
        if stamp is None and not kept and not rejected and _is_stamp(cells):
            stamp = cells[0].strip()
            continue
        if len(cells) != len(columns):
            ubn_at = columns.index(COLUMN_UBN)
            ubn_guess = cells[ubn_at].strip() if len(cells) > ubn_at else ""
            rejected.append(
                RejectedRow(
                    line,
                    ubn_guess,
                    f"Expected {len(columns)} fields, found {len(cells)} (an unquoted comma?)",
                    f"應有 {len(columns)} 個欄位，實有 {len(cells)} 個（是否有未加引號的逗號？）",
                )
            )
            continue
        row = _Row(line, {name: _clean(cell) for name, cell in zip(columns, cells, strict=True)})
        problem = _rejection(row)
        if problem is not None:
            rejected.append(problem)
            continue
        ubn = row.cells[COLUMN_UBN]
        previous = kept.get(ubn)
        if previous is None:
            kept[ubn] = row
            continue
        duplicates += 1
        if _is_head_office(row) and not _is_head_office(previous):
            kept[ubn] = row

    records = [
        TaxRegistration(ubn=ubn, name=row.cells[COLUMN_NAME], address=row.cells[COLUMN_ADDRESS], status=status)
        for ubn, row in kept.items()
    ]
    return ParsedRegistry(
        records=records,
        rejected=rejected,
        stamp=stamp,
        stamp_date=_stamp_date(stamp) if stamp else None,
        suspended_file=suspended_file,
        duplicate_rows=duplicates,
        columns=columns,
    )
