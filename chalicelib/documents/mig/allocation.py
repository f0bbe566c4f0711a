"""Track-allocation imports: the E0501 配號檔 and the platform's allocation CSV (§1.3 item 4, §2.9.3).

Both become :class:`AllocationRecord` lists. Errors name the offending place: ``rows[3].begin_no``
for the CSV (0-based index of the physical CSV row, a header row included) and
``InvoiceAssignNo[1].InvoiceBeginNo`` for E0501 (0-based index among all ``InvoiceAssignNo``
elements of the file).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from chalicelib.documents.mig._errors import (
    ALLOC_BOOKLETS,
    ALLOC_BOUNDARY,
    ALLOC_EMPTY,
    ALLOC_RANGE,
    CSV_COLUMNS,
    CSV_ENCODING,
    FIELD_ORDER,
    FIELD_PATTERN,
    XML_NAMESPACE,
    XML_ROOT,
    custom,
    from_validation_error,
    invalid,
)
from chalicelib.documents.mig._parsing import local_name, namespace_of, parse_document
from chalicelib.documents.mig._types import Ban, InvoiceTypeCode, SerialNo, Track, YearMonth

NUMBERS_PER_BOOKLET = 50

E0501_NAMESPACE_PREFIX = "urn:GEINV:eInvoiceMessage:E0501:"
#: Also the official E0501.xsd's own ``urn:GEINV:E0501:4.0`` (MIG 4.1 ships E0501 at 4.0).
E0501_NAMESPACE_PREFIXES = (E0501_NAMESPACE_PREFIX, "urn:GEINV:E0501:")

#: E0501 element name of each AllocationRecord field (the order of ``InvoiceAssignNo``).
E0501_ELEMENTS: Mapping[str, str] = {
    "ubn": "Ban",
    "invoice_type": "InvoiceType",
    "period": "YearMonth",
    "track": "InvoiceTrack",
    "begin_no": "InvoiceBeginNo",
    "end_no": "InvoiceEndNo",
    "booklets": "InvoiceBooklet",
}


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


class AllocationRecord(BaseModel):
    """One allocated range of one track for one period (本/組 = 50 numbers)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ubn: Ban
    invoice_type: InvoiceTypeCode
    period: YearMonth  # 5-digit ROC year + even month, e.g. 11312
    track: Annotated[Track, BeforeValidator(_upper)]  # upper-cased on import
    begin_no: SerialNo
    end_no: SerialNo
    booklets: Annotated[int, Field(ge=1)]

    def __init__(self, /, **data: Any) -> None:
        """Construct and validate; failures raise ``InvalidInput`` (field = the field name)."""
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise from_validation_error(exc, lambda loc: ".".join(str(step) for step in loc)) from None

    # Keep pydantic-core validating nested models itself (so error locations stay complete);
    # only explicit construction goes through the wrapper above.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @field_validator("begin_no")
    @classmethod
    def _begin_on_booklet_boundary(cls, value: str) -> str:
        if value[-2:] not in ("00", "50"):
            raise custom(ALLOC_BOUNDARY, "must end in 00 or 50 (start of a booklet)", "起號末兩碼必須為 00 或 50")
        return value

    @field_validator("end_no")
    @classmethod
    def _end_on_booklet_boundary(cls, value: str, info: ValidationInfo) -> str:
        if value[-2:] not in ("49", "99"):
            raise custom(ALLOC_BOUNDARY, "must end in 49 or 99 (end of a booklet)", "迄號末兩碼必須為 49 或 99")
        begin = info.data.get("begin_no")
        if begin is not None and int(value) < int(begin):
            raise custom(ALLOC_RANGE, f"must not be below the begin number {begin}", f"迄號不得小於起號 {begin}")
        return value

    @field_validator("booklets")
    @classmethod
    def _booklets_match_range(cls, value: int, info: ValidationInfo) -> int:
        begin, end = info.data.get("begin_no"), info.data.get("end_no")
        if begin is not None and end is not None:
            expected = (int(end) - int(begin) + 1) // NUMBERS_PER_BOOKLET
            if value != expected:
                raise custom(
                    ALLOC_BOOKLETS,
                    f"is {value} but the range {begin}-{end} holds {expected} booklet(s) of 50",
                    f"為 {value}，但號碼區間 {begin}-{end} 為 {expected} 本（每本 50 號）",
                )
        return value

    @property
    def count(self) -> int:
        """How many invoice numbers the range holds."""
        return int(self.end_no) - int(self.begin_no) + 1


def _record(values: Mapping[str, Any], name_of: Callable[[str], str]) -> AllocationRecord:
    try:
        return AllocationRecord.model_validate(values)
    except ValidationError as exc:
        raise from_validation_error(exc, lambda loc: name_of(str(loc[0]) if loc else "")) from None


# --- E0501 --------------------------------------------------------------------------------------


def _assign_elements(root: Any) -> list[Any]:
    name = local_name(root)
    if name == "InvoiceAssignNo":
        return [root]
    if name == "InvoiceEnvelope":
        return [
            item
            for pack in root
            if isinstance(pack.tag, str) and local_name(pack) == "InvoicePack"
            for item in pack
            if isinstance(item.tag, str) and local_name(item) == "InvoiceAssignNo"
        ]
    raise invalid(
        XML_ROOT,
        name,
        "an E0501 file must be InvoiceAssignNo or InvoiceEnvelope/InvoicePack/InvoiceAssignNo",
        "E0501 檔案的根元素必須為 InvoiceAssignNo 或 InvoiceEnvelope/InvoicePack/InvoiceAssignNo",
    )


def _e0501_namer(prefix: str) -> Callable[[str], str]:
    def name_of(field: str) -> str:
        return f"{prefix}.{E0501_ELEMENTS.get(field, field)}"

    return name_of


def parse_e0501(data: bytes) -> list[AllocationRecord]:
    """Records of an E0501 營業人電子發票配號檔: a bare ``InvoiceAssignNo`` or a Turnkey envelope.

    Element names are matched by local name. ``InvoiceAssignNo`` may carry no namespace or any
    ``urn:GEINV:eInvoiceMessage:E0501:<version>`` one (downloads are read leniently, as long as
    they are E0501); unknown children are ignored, repeated ones refused.
    """
    elements = _assign_elements(parse_document(data))
    if not elements:
        raise invalid(
            ALLOC_EMPTY,
            "InvoicePack.InvoiceAssignNo",
            "the envelope holds no InvoiceAssignNo",
            "封包內沒有任何 InvoiceAssignNo",
        )
    by_element = {element: field for field, element in E0501_ELEMENTS.items()}
    records: list[AllocationRecord] = []
    for index, element in enumerate(elements):
        prefix = f"InvoiceAssignNo[{index}]"
        ns = namespace_of(element)
        if ns is not None and not ns.startswith(E0501_NAMESPACE_PREFIXES):
            raise invalid(XML_NAMESPACE, prefix, f"namespace {ns} is not E0501", f"命名空間 {ns} 不是 E0501")
        values: dict[str, Any] = {}
        for child in element:
            if not isinstance(child.tag, str):  # pragma: no cover - comments/PIs are removed
                continue
            field = by_element.get(local_name(child))
            if field is None:
                continue
            if field in values:
                raise invalid(FIELD_ORDER, f"{prefix}.{local_name(child)}", "appears twice", "重複出現")
            if child.text is not None:
                values[field] = child.text.strip()
        records.append(_record(values, _e0501_namer(prefix)))
    return records


# --- platform CSV -------------------------------------------------------------------------------

_COLUMNS = 7  # 0 UBN, 1 type, 2 (unused), 3 period range, 4 track, 5 begin, 6 end
_PERIOD_RANGE = re.compile(r"([0-9]{2,3})\s*/\s*([0-9]{1,2})\s*[~～-]\s*([0-9]{2,3})\s*/\s*([0-9]{1,2})")
_DIGIT = re.compile(r"[0-9]")


def _decode(data: bytes) -> str:
    """Big5/cp950 first (what the platform produces), then UTF-8; a UTF-8 BOM decides at once."""
    if data.startswith(codecs.BOM_UTF8):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    else:
        encodings = ("cp950", "utf-8", "big5hkscs")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise invalid(
        CSV_ENCODING,
        None,
        "the CSV is neither Big5/cp950 nor UTF-8",
        "CSV 檔案編碼不是 Big5/cp950，也不是 UTF-8",
    )


def period_from_range(text: str) -> str:
    """``113/11 ~ 113/12`` -> ``11312`` (a bimonthly period is named by its even month)."""
    match = _PERIOD_RANGE.fullmatch(text.strip())
    if match is None:
        raise ValueError(text)
    start_year, start_month, end_year, end_month = (int(part) for part in match.groups())
    if start_year != end_year or start_month % 2 != 1 or end_month != start_month + 1 or end_month > 12:
        raise ValueError(text)
    return f"{end_year:03d}{end_month:02d}"


def _is_header(cells: list[str]) -> bool:
    return not _DIGIT.search(cells[0]) and not (len(cells) > 5 and _DIGIT.search(cells[5]))


def _csv_row(index: int, cells: list[str]) -> AllocationRecord:
    prefix = f"rows[{index}]"
    if len(cells) < _COLUMNS:
        raise invalid(
            CSV_COLUMNS,
            prefix,
            f"has {len(cells)} columns, at least {_COLUMNS} are needed",
            f"只有 {len(cells)} 欄，至少需要 {_COLUMNS} 欄",
        )
    invoice_type = cells[1].zfill(2) if len(cells[1]) == 1 else cells[1]
    try:
        period = period_from_range(cells[3])
    except ValueError:
        if not re.fullmatch(r"[0-9]{5}", cells[3]):
            raise invalid(
                FIELD_PATTERN,
                f"{prefix}.period",
                f"{cells[3]!r} is not a period range such as 113/11 ~ 113/12",
                f"「{cells[3]}」不是期別區間（例：113/11 ~ 113/12）",
            ) from None
        period = cells[3]
    begin, end = cells[5], cells[6]
    booklets = 0
    if begin.isascii() and begin.isdigit() and end.isascii() and end.isdigit():
        booklets = (int(end) - int(begin) + 1) // NUMBERS_PER_BOOKLET
    values = {
        "ubn": cells[0],
        "invoice_type": invoice_type,
        "period": period,
        "track": cells[4],
        "begin_no": begin,
        "end_no": end,
        "booklets": booklets,
    }
    return _record(values, lambda name: f"{prefix}.{name}")


def parse_allocation_csv(data: bytes) -> list[AllocationRecord]:
    """Records of the allocation CSV downloaded from the platform (imported unedited).

    Columns (0-based): 0 UBN, 1 invoice type 07/08, 3 period range ``113/11 ~ 113/12``, 4 track,
    5 begin number, 6 end number. A first row without digits in columns 0 and 5 is a header and
    skipped, as are blank rows. The booklet count is derived from the range (count / 50).
    """
    reader = csv.reader(io.StringIO(_decode(bytes(data)), newline=""))
    records: list[AllocationRecord] = []
    seen_content = False
    for index, row in enumerate(reader):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        first, seen_content = not seen_content, True
        if first and _is_header(cells):
            continue
        records.append(_csv_row(index, cells))
    if not records:
        raise invalid(ALLOC_EMPTY, "rows", "the CSV holds no allocation rows", "CSV 檔案沒有任何配號資料")
    return records


__all__ = [
    "E0501_ELEMENTS",
    "AllocationRecord",
    "parse_allocation_csv",
    "parse_e0501",
    "period_from_range",
]
