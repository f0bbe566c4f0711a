"""Scheduled period work: close a period for every merchant, remind, mark overdue; and the merchant's
blank-number (E0402) filing.

Each job runs over all merchants page by page and keeps its cursor in ``JOB#<name>#<period>``, so a
run that hits its time limit is resumed by the next one. Every notice is claimed before it is sent
(``NOTICE#<period>#<kind>``), so running a job twice, or two runs at once, sends nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal, Protocol

from chalicelib.domain import notifications as notice_kinds
from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.events import FILING_READY, Event
from chalicelib.domain.filing_status import ensure_period_ended
from chalicelib.domain.notifications import Notice
from chalicelib.domain.owners import merchant_owner
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.working_days import WEEKDAYS, WorkingCalendar, blank_number_deadline, filing_deadline
from chalicelib.services.filing_notices import notice_text
from chalicelib.services.filings import FilingDocuments, FilingService
from chalicelib.services.merchant_profile import notice_settings
from chalicelib.services.notices import notice_address
from chalicelib.services.ports import AuditLog, EventSink, FilingStore, Mailer, Notices
from chalicelib.services.reconciliation import Reconciler
from chalicelib.services.tracks import TrackService

_log = logging.getLogger(__name__)

JOBS = ("close", "blank_reminder", "return_reminder", "overdue")
Outcome = Literal["notified", "skipped", "incomplete"]
_FOLDER = "blank-numbers"


def _never() -> bool:
    return False


class MerchantDirectory(Protocol):
    def page(self, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """Merchant profiles, a page at a time, and where the next page starts (None: done)."""


def due_jobs(today: date, calendar: WorkingCalendar = WEEKDAYS) -> list[tuple[str, Period]]:
    """What the schedule should run on ``today`` (Taiwan date): all of it concerns the period that
    ended last, and only during the first month of the next one. The deadlines are the ones moved
    off a day off, so the reminders and the overdue mark follow them."""
    current = Period.from_date(today)
    if today.month != current.start_month:
        return []
    ended = current.previous()
    jobs = [("close", ended)]
    blank_due, return_due = blank_number_deadline(ended, calendar), filing_deadline(ended, calendar)
    if today == blank_due:
        jobs.append(("blank_reminder", ended))
    if today == return_due - timedelta(days=2):
        jobs.append(("return_reminder", ended))
    if today > return_due:
        jobs.append(("overdue", ended))
    return jobs


def unknown_job(name: str) -> InvalidInput:
    return InvalidInput(
        "UNKNOWN_JOB", f"Jobs are {', '.join(JOBS)}; not {name!r}.", f"工作名稱須為 {', '.join(JOBS)}。", "job"
    )


@dataclass
class JobReport:
    job: str
    period: str
    done: bool
    merchants: int = 0
    notified: int = 0
    started_at: str | None = None
    finished_at: str | None = None


class BlankNumberFiling:
    """The merchant files the period's unused numbers (E0402), one file per track, after the period."""

    def __init__(
        self,
        *,
        tracks: TrackService,
        filings: FilingStore,
        documents: FilingDocuments,
        clock: Clock,
        audit: AuditLog,
        calendar: WorkingCalendar = WEEKDAYS,
    ) -> None:
        self._calendar = calendar
        self._tracks = tracks
        self._filings = filings
        self._documents = documents
        self._clock = clock
        self._audit = audit

    def build(self, ubn: str, period: Period) -> dict[str, Any]:
        """Store the period's E0402 files; returns their names and the count of unused numbers."""
        files, count = [], 0
        for report in self._tracks.blank_report(ubn, period):
            name = f"E0402-{report.track}-{report.invoice_type}.xml"
            self._documents.put(ubn, period.code, _FOLDER, name, report.xml)
            files.append(name)
            count += sum(r.count for r in report.ranges)
        return {"files": files, "count": count, "built_at": self._clock.now().isoformat()}

    def file(self, ubn: str, code: str, *, actor: str) -> dict[str, Any]:
        period = Period.parse(code)
        now = self._clock.now()
        ensure_period_ended(period, now.astimezone(TAIWAN_TZ).date(), calendar=self._calendar)
        head = self._filings.head(ubn, period.code) or {}
        if head.get("blank_numbers_filed_at"):
            return self.view(ubn, period, head)
        built = self.build(ubn, period)
        self._filings.mark(
            ubn,
            period.code,
            {"blank_numbers": built, "blank_numbers_filed_at": now.isoformat(), "blank_numbers_filed_by": actor},
        )
        self._audit.record(merchant_owner(ubn), "blank_numbers_filed", actor, {"period": period.code, **built})
        return self.view(ubn, period, self._filings.head(ubn, period.code) or {})

    def link(self, ubn: str, code: str, name: str) -> str:
        period = Period.parse(code)
        head = self._filings.head(ubn, period.code) or {}
        if name not in ((head.get("blank_numbers") or {}).get("files") or []):
            raise NotFound("FILE_NOT_FOUND", "No such E0402 file for this period", "本期無此空白字軌檔", "file")
        return self._documents.presign(ubn, period.code, _FOLDER, name)

    def view(self, ubn: str, period: Period, head: Mapping[str, Any]) -> dict[str, Any]:
        built = head.get("blank_numbers") or {}
        return {
            "period": period.code,
            "due_by": blank_number_deadline(period, self._calendar).isoformat(),
            "filed_at": head.get("blank_numbers_filed_at"),
            "filed_by": head.get("blank_numbers_filed_by"),
            "unused_numbers": int(built.get("count") or 0),
            "files": [
                {"name": name, "href": f"/v1/filings/{period.code}/blank-numbers/{name}"}
                for name in built.get("files") or []
            ],
        }


class PeriodJobs:
    def __init__(
        self,
        *,
        filings: FilingStore,
        filing_service: FilingService,
        reconciler: Reconciler,
        directory: MerchantDirectory,
        blank_numbers: BlankNumberFiling,
        mailer: Mailer,
        clock: Clock,
        page_size: int = 100,
        calendar: WorkingCalendar = WEEKDAYS,
        first_period: Callable[[str], Period | None] | None = None,
        events: EventSink | None = None,
        notices: Notices | None = None,
    ) -> None:
        self._calendar = calendar
        self._events = events
        self._notices = notices
        # The merchant's first period here (merchant_start.first_period): no notice about an earlier one.
        self._first_period = first_period or (lambda ubn: None)
        self._filings = filings
        self._service = filing_service
        self._reconciler = reconciler
        self._directory = directory
        self._blank = blank_numbers
        self._mailer = mailer
        self._clock = clock
        self._page_size = page_size

    def run_due(self, out_of_time: Callable[[], bool] = _never) -> list[JobReport]:
        today = self._clock.now().astimezone(TAIWAN_TZ).date()
        reports = []
        for name, period in due_jobs(today, self._calendar):
            if out_of_time():
                break
            reports.append(self.run(name, period, out_of_time))
        return reports

    def run(self, name: str, period: Period, out_of_time: Callable[[], bool] = _never) -> JobReport:
        if name not in JOBS:
            raise unknown_job(name)
        ensure_period_ended(period, self._clock.now().astimezone(TAIWAN_TZ).date())
        state = self._filings.job(name, period.code) or {
            "cursor": None,
            "merchants": 0,
            "notified": 0,
            "done": False,
            "started_at": self._clock.now().isoformat(),
        }
        handler = getattr(self, f"_{name}")
        while not state.get("done"):
            if out_of_time():
                break
            profiles, following = self._directory.page(state.get("cursor"), self._page_size)
            stopped = False
            for profile in profiles:
                outcome: Outcome = (
                    "skipped"
                    if self._not_due(str(profile["ubn"]), period)
                    else handler(str(profile["ubn"]), profile, period, out_of_time)
                )
                if outcome == "incomplete":
                    stopped = True
                    break
                state["merchants"] = int(state["merchants"]) + 1
                state["notified"] = int(state["notified"]) + (outcome == "notified")
            if stopped:
                break  # this page again next run; the notices already sent are claimed
            state["cursor"] = following
            if following is None:
                state["done"] = True
                state["finished_at"] = self._clock.now().isoformat()
            self._filings.save_job(name, period.code, state)
        self._filings.save_job(name, period.code, state)
        return JobReport(
            job=name,
            period=period.code,
            done=bool(state.get("done")),
            merchants=int(state["merchants"]),
            notified=int(state["notified"]),
            started_at=state.get("started_at"),
            finished_at=state.get("finished_at"),
        )

    def _not_due(self, ubn: str, period: Period) -> bool:
        first = self._first_period(ubn)
        return first is not None and period < first

    # --- the jobs, per merchant --------------------------------------------------------------------

    def _close(self, ubn: str, profile: Mapping[str, Any], period: Period, out_of_time: Callable[[], bool]) -> Outcome:
        head = self._filings.head(ubn, period.code) or {}
        if head.get("current_version"):
            return "skipped"  # already filed: "ready to file" would tell the merchant something false
        if not head.get("draft"):
            report = self._reconciler.run(ubn, period, out_of_time=out_of_time)
            if report["status"] == "running":
                return "incomplete"
            draft = self._service.draft(ubn, period)
            blank = head.get("blank_numbers") or self._blank.build(ubn, period)
            self._filings.mark(
                ubn,
                period.code,
                {
                    "draft": {
                        "form": draft.form,
                        "payable": draft.payable,
                        "refund": draft.refund,
                        "credit_carried_forward": draft.credit_carried_forward,
                        "computed_at": self._clock.now().isoformat(),
                    },
                    "blank_numbers": blank,
                },
            )
            head = self._filings.head(ubn, period.code) or {}
        self._filing_ready(ubn, period, head)
        return self._notify(ubn, profile, period, "close", head)

    def _filing_ready(self, ubn: str, period: Period, head: Mapping[str, Any]) -> None:
        """``filing.ready``, published before the notice: a run that stops after it publishes
        again next time, which the event's id (one per merchant and period) makes harmless."""
        if self._events is None:
            return
        draft = head.get("draft") or {}
        data = {
            "period": period.code,
            "form": draft.get("form"),
            "payable": draft.get("payable"),
            "refund": draft.get("refund"),
            "credit_carried_forward": draft.get("credit_carried_forward"),
            "unused_numbers": int((head.get("blank_numbers") or {}).get("count") or 0),
            "blank_numbers_due": blank_number_deadline(period, self._calendar).isoformat(),
            "return_due": filing_deadline(period, self._calendar).isoformat(),
            "links": {"self": f"/v1/filings/{period.code}"},
        }
        event = Event(ubn, FILING_READY, f"filing:{period.code}:ready", self._clock.now(), data)
        self._events.publish([event])

    def _blank_reminder(
        self, ubn: str, profile: Mapping[str, Any], period: Period, out_of_time: Callable[[], bool]
    ) -> Outcome:
        head = self._filings.head(ubn, period.code) or {}
        return "skipped" if head.get("blank_numbers_filed_at") else self._notify(ubn, profile, period, "blank_reminder")

    def _return_reminder(
        self, ubn: str, profile: Mapping[str, Any], period: Period, out_of_time: Callable[[], bool]
    ) -> Outcome:
        head = self._filings.head(ubn, period.code) or {}
        return "skipped" if head.get("current_version") else self._notify(ubn, profile, period, "return_reminder")

    def _overdue(
        self, ubn: str, profile: Mapping[str, Any], period: Period, out_of_time: Callable[[], bool]
    ) -> Outcome:
        head = self._filings.head(ubn, period.code) or {}
        if head.get("current_version"):
            return "skipped"
        if not head.get("overdue_at"):
            self._filings.mark(ubn, period.code, {"overdue_at": self._clock.now().isoformat()})
        return self._notify(ubn, profile, period, "overdue")

    def _notify(
        self, ubn: str, profile: Mapping[str, Any], period: Period, kind: str, head: Mapping[str, Any] | None = None
    ) -> Outcome:
        to = notice_address(profile)
        if to is None and self._notices is None:
            return "skipped"
        if not self._filings.claim_notice(ubn, period.code, kind, self._clock.now().isoformat()):
            return "skipped"
        subject, body = notice_text(kind, period, head or {}, self._calendar)
        notice_kind = _NOTICE_KINDS[kind]
        if to is not None and notice_settings(profile).channels(notice_kind).email:
            try:
                self._mailer.send(to, subject, body)
            except Exception:
                # Give the claim back: the next run sends it. Stop this run, the mail service is failing.
                _log.exception("notice %s for %s %s not sent", kind, ubn, period.code)
                self._filings.release_notice(ubn, period.code, kind)
                return "incomplete"
        if self._notices is not None:
            # The mail above is this job's, guarded by its claim; the inbox (and an SMS) come from here.
            title_zh, _, title_en = subject.partition(" / ")
            body_zh, _, body_en = body.partition("\n\n")
            notice = Notice(
                ubn,
                notice_kind,
                f"{kind}:{period.code}",
                title_zh,
                title_en or title_zh,
                body_zh.strip(),
                (body_en or body_zh).strip(),
                f"/console/filings/{period.code}",
                {"period": period.code, "job": kind},
            )
            self._notices.notify(notice, channels=("sms",))
        return "notified"


#: The inbox kind of each period notice (domain/notifications.py), which its per-kind setting follows.
_NOTICE_KINDS = {
    "close": notice_kinds.PERIOD_CLOSED,
    "blank_reminder": notice_kinds.FILING_REMINDER,
    "return_reminder": notice_kinds.FILING_REMINDER,
    "overdue": notice_kinds.FILING_OVERDUE,
}
