"""`make run`'s stand-in for the scheduled period jobs (the hourly ``period_jobs`` Lambda): a thread
that runs whatever is due for today (period close, the 10th and 13th reminders, overdue after the
15th) at start and then every ten minutes, and tells merchants of newly published announcements
every minute (the ``announcement_events`` schedule), with the same code the schedules run.

Staff can run any job for any ended period at once with ``POST /v1/admin/jobs/{job}``.
"""

from __future__ import annotations

import threading
import time

from chalicelib.api import deps
from chalicelib.observability import logger

EVERY_S = 600.0
ANNOUNCEMENTS_EVERY_S = 60.0
BUDGET_S = 120.0


class PeriodScheduler:
    def __init__(self, *, every_s: float = EVERY_S) -> None:
        self._every_s = every_s
        self._next_jobs = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> PeriodScheduler:
        self._thread = threading.Thread(target=self._run, name="period-jobs", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=BUDGET_S + 5)
        self._thread = None

    def _round(self) -> None:
        budget = deps.time_budget(BUDGET_S)
        told = deps.announcement_events().run(lambda: budget() or self._stop.is_set())
        if told.events:
            logger.info("announcement events", extra={"events": told.events})
        if time.monotonic() < self._next_jobs:
            return
        self._next_jobs = time.monotonic() + self._every_s
        for report in deps.period_jobs().run_due(lambda: budget() or self._stop.is_set()):
            logger.info("period job", extra={"job": report.job, "period": report.period, "done": report.done})

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._round()
            except Exception:  # keep the scheduler alive; the log says what went wrong
                logger.exception("local period jobs round failed")
            self._stop.wait(min(self._every_s, ANNOUNCEMENTS_EVERY_S))
