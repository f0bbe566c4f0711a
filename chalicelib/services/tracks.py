"""Track (字軌) use cases: allocation by staff, import by the merchant, activation (取號),
assignment of booklets to issuing channels, the track overview and the blank-number report."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.domain.blank_numbers import BlankRange, BookletUse, blank_ranges
from chalicelib.domain.channels import validate_channel
from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import Conflict, DomainError, InvalidInput, NotFound, RuleViolation
from chalicelib.domain.invoice_number import BOOKLET_SIZE, TrackRange, range_id
from chalicelib.domain.invoice_type import InvoiceType
from chalicelib.domain.owners import merchant_owner
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.ubn import validate_ubn
from chalicelib.domain.validation import as_pydantic_error
from chalicelib.domain.working_days import WEEKDAYS, WorkingCalendar, blank_number_deadline
from chalicelib.services.ports import AuditLog, TaxRegistryReader

if TYPE_CHECKING:
    # The MIG package (lxml) is imported by the routes that read or write MIG files, not at start.
    from chalicelib.documents.mig import AllocationRecord

_TRACK_ID = re.compile(r"[0-9]{5}-0[78]-[A-Z]{2}-[0-9]{8}")


class TrackStore(Protocol):
    """A merchant's track ranges (字軌), their booklets and the channels' counters."""

    def allocate(
        self, ubn: str, track_range: TrackRange, *, status: str, source: str, actor: str, at: datetime
    ) -> bool:
        """Store the range and its booklets; False when it overlaps one already stored."""

    def remove(self, ubn: str, track_range: TrackRange) -> None: ...

    def items(self, ubn: str, kind: str, period: str) -> list[dict[str, Any]]: ...

    def range_item(self, ubn: str, rid: str) -> dict[str, Any] | None: ...

    def set_booklets_active(self, ubn: str, booklet_sks: Sequence[str]) -> None: ...

    def assign(
        self, ubn: str, period: str, invoice_type: str, channel: str, booklets: Sequence[dict[str, Any]]
    ) -> None: ...


class BookletView(BaseModel):
    begin_no: str
    end_no: str
    status: str = Field(description="allocated (配號), active (取號), assigned (to a channel), exhausted")
    channel: str | None
    next_no: str | None = Field(description="The next number this booklet will issue, if any")
    used: int
    remaining: int


class RangeView(BaseModel):
    track_id: str
    period: str
    invoice_type: str
    track: str
    begin_no: str
    end_no: str
    source: str
    booklets: list[BookletView]
    used: int
    remaining: int


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str = Field(description="online, api or pos:<device>")
    booklets: int | None = Field(default=None, ge=1, le=10_000, description="How many of the next free booklets")
    begin_nos: list[str] | None = Field(default=None, max_length=10_000, description="Or exactly these booklets")

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        try:
            return validate_channel(value, None)  # type: ignore[arg-type]
        except InvalidInput as error:
            raise as_pydantic_error(error) from None

    @model_validator(mode="after")
    def _one_way(self) -> Assignment:
        if (self.booklets is None) == (self.begin_nos is None):
            raise as_pydantic_error(
                InvalidInput(
                    "INVALID_ASSIGNMENT",
                    "Give either a number of booklets or their begin numbers",
                    "請指定本數或各本起號（擇一）",
                    "booklets",
                )
            )
        return self


class ChannelAssignment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignments: list[Assignment] = Field(min_length=1, max_length=100)


@dataclass(frozen=True)
class BlankReport:
    invoice_type: str
    track: str
    ranges: list[BlankRange]
    xml: bytes


def _not_found() -> NotFound:
    return NotFound("TRACK_NOT_FOUND", "No such track range", "查無此字軌區間")


def _period_open(period: Period, today: date, field: str) -> None:
    if period.last_day < today:
        raise RuleViolation(
            "PERIOD_CLOSED",
            f"Period {period.code} has ended; its numbers can no longer be used",
            f"{period.code} 期已結束，其號碼不得再使用",
            field,
        )


class TrackService:
    def __init__(self, *, tracks: TrackStore, registry: TaxRegistryReader, audit: AuditLog, clock: Clock) -> None:
        self._tracks = tracks
        self._registry = registry
        self._audit = audit
        self._clock = clock

    # --- allocation (配號) ----------------------------------------------------------------------

    def allocate(
        self, *, ubn: str, period: str, invoice_type: str, track: str, begin_no: str, end_no: str, actor: str
    ) -> tuple[RangeView, bool]:
        validate_ubn(ubn, "ubn")
        record = self._registry.get(ubn)
        if record is None or not record.may_sign_up:
            raise RuleViolation(
                "BUSINESS_NOT_ACTIVE",
                "Numbers are only allocated to a business active in the tax registry",
                "僅能配號給稅籍登記為營業中的營業人",
                "ubn",
            )
        track_range = TrackRange.create(Period.parse(period), _invoice_type(invoice_type), track, begin_no, end_no)
        _period_open(track_range.period, self._clock.now().astimezone(TAIWAN_TZ).date(), "period")
        created = self._tracks.allocate(
            ubn, track_range, status="allocated", source="allocation", actor=actor, at=self._clock.now()
        )
        if created:
            self._audit.record(merchant_owner(ubn), "track_allocated", actor, {"track_id": range_id(track_range)})
        return self._view(ubn, range_id(track_range)), created

    # --- import (E0501 or the platform's CSV) ----------------------------------------------------

    def import_file(self, ubn: str, data: bytes, content_type: str, *, actor: str) -> dict[str, Any]:
        records = _parse_allocation_file(data, content_type)
        ranges = [self._own_range(ubn, record, index) for index, record in enumerate(records)]
        created: list[TrackRange] = []
        already = 0
        for track_range in ranges:
            try:
                new = self._tracks.allocate(
                    ubn, track_range, status="active", source="import", actor=actor, at=self._clock.now()
                )
            except Conflict:
                # One bad range refuses the whole file: nothing of it stays half-loaded.
                for done in created:
                    self._tracks.remove(ubn, done)
                raise
            if new:
                created.append(track_range)
            else:
                already += 1
        for track_range in created:
            self._audit.record(merchant_owner(ubn), "track_imported", actor, {"track_id": range_id(track_range)})
        return {
            "imported": len(created),
            "already_loaded": already,
            "ranges": [self._view(ubn, range_id(r)).model_dump() for r in ranges],
        }

    def _own_range(self, ubn: str, record: AllocationRecord, index: int) -> TrackRange:
        if record.ubn != ubn:
            raise RuleViolation(
                "FOREIGN_ALLOCATION",
                f"Row {index} allocates numbers to UBN {record.ubn}, not to you",
                f"第 {index} 筆配號屬於統一編號 {record.ubn}，不是您的",
                f"records[{index}].ubn",
            )
        try:
            track_range = TrackRange.create(
                Period.parse(record.period),
                _invoice_type(record.invoice_type),
                record.track,
                record.begin_no,
                record.end_no,
            )
            _period_open(track_range.period, self._clock.now().astimezone(TAIWAN_TZ).date(), "period")
        except DomainError as error:
            raise type(error)(error.code, error.message, error.message_zh, f"records[{index}].{error.field}") from None
        return track_range

    # --- activation (取號) and channels ---------------------------------------------------------

    def activate(self, ubn: str, track_id: str, booklets: int | None, *, actor: str) -> RangeView:
        period, items = self._booklets_of(ubn, track_id)
        _period_open(period, self._clock.now().astimezone(TAIWAN_TZ).date(), "track_id")
        waiting = [b for b in items if b["status"] == "allocated"]
        chosen = waiting if booklets is None else waiting[:booklets]
        if booklets is not None and booklets > len(waiting):
            raise RuleViolation(
                "NOT_ENOUGH_BOOKLETS",
                f"Only {len(waiting)} booklets of this range are waiting for activation",
                f"此區間僅剩 {len(waiting)} 本可取號",
                "booklets",
            )
        self._tracks.set_booklets_active(ubn, [b["sk"] for b in chosen])
        self._audit.record(
            merchant_owner(ubn), "booklets_activated", actor, {"track_id": track_id, "count": len(chosen)}
        )
        return self._view(ubn, track_id)

    def assign(self, ubn: str, track_id: str, request: ChannelAssignment, *, actor: str) -> RangeView:
        period, items = self._booklets_of(ubn, track_id)
        _period_open(period, self._clock.now().astimezone(TAIWAN_TZ).date(), "track_id")
        free = [b for b in items if b["status"] == "active" and not b.get("channel")]
        by_begin = {f"{int(b['begin']):08d}": b for b in free}
        plan: list[tuple[str, list[dict[str, Any]]]] = []
        taken: set[str] = set()
        for index, assignment in enumerate(request.assignments):
            if assignment.begin_nos is not None:
                chosen = []
                for begin in assignment.begin_nos:
                    if begin not in by_begin or begin in taken:
                        raise Conflict(
                            "BOOKLET_NOT_ASSIGNABLE",
                            f"Booklet {begin} is not an activated, unassigned booklet of this range",
                            f"字軌本 {begin} 不是此區間已取號且未指派的字軌本",
                            f"assignments[{index}].begin_nos",
                        )
                    chosen.append(by_begin[begin])
                    taken.add(begin)
            else:
                rest = [b for b in free if f"{int(b['begin']):08d}" not in taken]
                count = assignment.booklets or 0
                if count > len(rest):
                    raise RuleViolation(
                        "NOT_ENOUGH_BOOKLETS",
                        f"Only {len(rest)} activated, unassigned booklets are left in this range",
                        f"此區間僅剩 {len(rest)} 本已取號且未指派的字軌本",
                        f"assignments[{index}].booklets",
                    )
                chosen = rest[:count]
                taken.update(f"{int(b['begin']):08d}" for b in chosen)
            plan.append((assignment.channel, chosen))
        invoice_type = track_id.split("-")[1]
        for channel, chosen in plan:
            self._tracks.assign(ubn, period.code, invoice_type, channel, chosen)
        self._audit.record(
            merchant_owner(ubn),
            "booklets_assigned",
            actor,
            {"track_id": track_id, "assignments": {c: len(b) for c, b in plan}},
        )
        return self._view(ubn, track_id)

    # --- views and reports -----------------------------------------------------------------------

    def overview(self, ubn: str, period: Period) -> list[RangeView]:
        ranges = self._tracks.items(ubn, "RANGE", period.code)
        booklets = self._tracks.items(ubn, "BOOKLET", period.code)
        counters = self._tracks.items(ubn, "COUNTER", period.code)
        return [_range_view(r, booklets, counters) for r in ranges]

    def period_ended(self, period: Period) -> bool:
        """Whether ``period`` is over: none of its numbers can be used any more, so its blank-number
        report is final."""
        return period.last_day < self._clock.now().astimezone(TAIWAN_TZ).date()

    def blank_report(self, ubn: str, period: Period) -> list[BlankReport]:
        uses = [
            BookletUse(r.invoice_type, r.track, int(v.begin_no), int(v.end_no), int(v.begin_no) + v.used)
            for r in self.overview(ubn, period)
            for v in r.booklets
        ]
        reports = []
        by_track: dict[tuple[str, str], list[BlankRange]] = {}
        for blank in blank_ranges(uses):
            by_track.setdefault((blank.invoice_type, blank.track), []).append(blank)
        from chalicelib.documents.mig import BranchTrackBlank, build_xml

        for (invoice_type, track), ranges in sorted(by_track.items()):
            message = BranchTrackBlank.from_data(
                {
                    "main": {
                        "head_ban": ubn,
                        "branch_ban": ubn,
                        "invoice_type": invoice_type,
                        "year_month": period.code,
                        "invoice_track": track,
                    },
                    "details": [
                        {"invoice_begin_no": f"{r.begin:08d}", "invoice_end_no": f"{r.end:08d}"} for r in ranges
                    ],
                }
            )
            reports.append(BlankReport(invoice_type, track, ranges, build_xml(message)))
        return reports

    def _booklets_of(self, ubn: str, track_id: str) -> tuple[Period, list[dict[str, Any]]]:
        if not _TRACK_ID.fullmatch(track_id) or self._tracks.range_item(ubn, track_id) is None:
            raise _not_found()
        period = Period.parse(track_id.split("-", maxsplit=1)[0], "track_id")
        booklets = [b for b in self._tracks.items(ubn, "BOOKLET", period.code) if b["range_id"] == track_id]
        return period, sorted(booklets, key=lambda b: int(b["begin"]))

    def _view(self, ubn: str, track_id: str) -> RangeView:
        period = Period.parse(track_id.split("-", maxsplit=1)[0], "track_id")
        for view in self.overview(ubn, period):
            if view.track_id == track_id:
                return view
        raise _not_found()


def blank_summary(
    period: Period, reports: Sequence[BlankReport], *, final: bool, calendar: WorkingCalendar = WEEKDAYS
) -> dict[str, Any]:
    """The blank-number reports of a period as one JSON summary (E0402's ranges, by track); ``due_by``
    is the 10th moved off a day off (``calendar``)."""
    return {
        "period": period.code,
        "final": final,
        "due_by": blank_number_deadline(period, calendar).isoformat(),
        "reports": [
            {
                "invoice_type": r.invoice_type,
                "track": r.track,
                "ranges": [
                    {"begin_no": f"{x.begin:08d}", "end_no": f"{x.end:08d}", "count": x.count} for x in r.ranges
                ],
            }
            for r in reports
        ],
    }


def _invoice_type(value: str) -> InvoiceType:
    try:
        return InvoiceType(value)
    except ValueError:
        raise InvalidInput(
            "INVALID_INVOICE_TYPE", "The invoice type is 07 or 08", "發票類別須為 07 或 08", "invoice_type"
        ) from None


def _parse_allocation_file(data: bytes, content_type: str) -> Sequence[AllocationRecord]:
    if not data:
        raise InvalidInput("MISSING_BODY", "Send the allocation file as the body", "請以請求內容上傳配號檔", None)
    from chalicelib.documents.mig import parse_allocation_csv, parse_e0501
    from chalicelib.documents.mig.schema import check_e0501

    kind = content_type.split(";", maxsplit=1)[0].strip().lower()
    if kind in {"application/xml", "text/xml"}:
        check_e0501(data)  # the official E0501.xsd first (E0304/E0305, element and line)
        return parse_e0501(data)
    return parse_allocation_csv(data)


def stored_range(item: dict[str, Any]) -> dict[str, str]:
    """What every view of a stored range (its RANGE item) shows of it, numbers as 8 digits."""
    return {
        "period": str(item["period"]),
        "invoice_type": str(item["invoice_type"]),
        "track": str(item["track"]),
        "begin_no": f"{int(item['begin']):08d}",
        "end_no": f"{int(item['end']):08d}",
        "source": str(item.get("source") or "allocation"),
    }


def _range_view(item: dict[str, Any], booklets: list[dict[str, Any]], counters: list[dict[str, Any]]) -> RangeView:
    current: dict[tuple[str, int], int] = {}
    queued: set[tuple[str, int]] = set()
    for counter in counters:
        if counter.get("cur_track") is not None:
            current[(counter["cur_track"], int(counter["cur_begin"]))] = int(counter["next_no"])
        for entry in counter.get("queue") or []:
            queued_track, queued_begin = str(entry).split("#")
            queued.add((queued_track, int(queued_begin)))
    views = []
    for b in sorted((b for b in booklets if b["range_id"] == item["range_id"]), key=lambda b: int(b["begin"])):
        begin, end = int(b["begin"]), int(b["end"])
        ident = (str(b["track"]), begin)
        channel = b.get("channel")
        next_no: int | None = begin
        if channel and ident in current:
            used = min(current[ident] - begin, BOOKLET_SIZE)
            next_no = current[ident] if used < BOOKLET_SIZE else None
        elif channel and ident not in queued:
            used, next_no = BOOKLET_SIZE, None  # the channel used it up and moved on
        else:
            used = 0
        status = b["status"]
        if channel:
            status = "exhausted" if used == BOOKLET_SIZE else "assigned"
        views.append(
            BookletView(
                begin_no=f"{begin:08d}",
                end_no=f"{end:08d}",
                status=status,
                channel=channel,
                next_no=f"{item['track']}{next_no:08d}" if next_no is not None else None,
                used=used,
                remaining=BOOKLET_SIZE - used,
            )
        )
    used_total = sum(v.used for v in views)
    return RangeView(
        track_id=item["range_id"],
        **stored_range(item),
        booklets=views,
        used=used_total,
        remaining=len(views) * BOOKLET_SIZE - used_total,
    )
