"""Reconciliation (對帳): recount a period from its invoice and allowance records and compare the
running totals the return reads.

The totals are written in the same transactions as the invoices, so they should never drift; this
is the check that proves it before a return is filed (and finds a corrupted total if one appears).
A recount of a large period reads many pages: it stops when its time is up, keeps where it got to
in ``RECON#<period>``, and the next run (a scheduled job or the merchant asking again) goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from chalicelib.domain.allowance_record import AllowanceRecord
from chalicelib.domain.allowance_rules import counted_totals
from chalicelib.domain.clock import Clock
from chalicelib.domain.exchange import counts_for_buyer
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.period import Period
from chalicelib.domain.period_totals import GENERAL, PURCHASES, SPECIAL
from chalicelib.services.invoice_building import purchases_changes, totals_changes
from chalicelib.services.ports import FilingStore

PAGE_SIZE = 200
#: Each phase: the index, its partition key for the merchant, and what an item adds.
PHASES = ("invoices", "allowances", "received", "received_allowances")
TOTALS = (GENERAL, SPECIAL, PURCHASES)


class PeriodRecords(Protocol):
    def page(
        self, ubn: str, kind: str, low: str, high: str, cursor: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the period's ``kind`` of records (``PHASES``), and the cursor of the next."""


def _never() -> bool:
    return False


class Reconciler:
    def __init__(
        self, *, filings: FilingStore, records: PeriodRecords, clock: Clock, page_size: int = PAGE_SIZE
    ) -> None:
        self._filings = filings
        self._records = records
        self._clock = clock
        self._page_size = page_size

    def run(
        self, ubn: str, period: Period, *, repair: bool = False, out_of_time: Callable[[], bool] = _never
    ) -> dict[str, Any]:
        """Recount (or go on recounting) ``period``; the report once finished, else the progress so far.

        ``repair`` overwrites totals that differ with the recounted values (totals are derived data;
        the invoice records are the truth).
        """
        state = self._filings.reconciliation(ubn, period.code)
        if state is None or state.get("status") != "running":
            state = {
                "status": "running",
                "phase": 0,
                "cursor": None,
                "sums": {},
                "counted": 0,
                "started_at": self._clock.now().isoformat(),
            }
        sums: dict[str, dict[str, int]] = {
            name: {k: int(v) for k, v in values.items()} for name, values in (state.get("sums") or {}).items()
        }
        while state["phase"] < len(PHASES):
            if out_of_time():
                state["sums"] = sums
                self._filings.save_reconciliation(ubn, period.code, state)
                return _progress(state)
            phase = PHASES[state["phase"]]
            items, cursor = self._page(ubn, period, phase, state.get("cursor"))
            for item in items:
                _count(phase, item, period, sums)
            state["counted"] = int(state["counted"]) + (len(items) if phase == "invoices" else 0)
            if cursor is None:
                state["phase"] = int(state["phase"]) + 1
                state["cursor"] = None
            else:
                state["cursor"] = cursor
            state["sums"] = sums
            self._filings.save_reconciliation(ubn, period.code, state)
        return self._finish(ubn, period, state, sums, repair=repair)

    def _finish(
        self, ubn: str, period: Period, state: dict[str, Any], sums: dict[str, dict[str, int]], *, repair: bool
    ) -> dict[str, Any]:
        stored = self._filings.totals(ubn, period.code)
        differences: list[dict[str, Any]] = []
        for name in TOTALS:
            kept = stored.group(name)
            counted = sums.get(name, {})
            for attribute in sorted(set(kept) | set(counted)):
                if kept.get(attribute, 0) != counted.get(attribute, 0):
                    differences.append(
                        {
                            "totals": name,
                            "field": attribute,
                            "stored": kept.get(attribute, 0),
                            "recounted": counted.get(attribute, 0),
                        }
                    )
        status = "agrees" if not differences else "differences"
        if differences and repair:
            for name in sorted({str(d["totals"]) for d in differences}):
                existing = list(stored.items_of(name))
                self._filings.replace_totals(ubn, period.code, name, sums.get(name, {}), existing)
            status = "repaired"
        report = {
            "status": status,
            "started_at": state["started_at"],
            "finished_at": self._clock.now().isoformat(),
            "invoices_counted": int(state["counted"]),
            "differences": differences,
        }
        self._filings.save_reconciliation(ubn, period.code, {**report, "phase": len(PHASES)})
        self._filings.mark(ubn, period.code, {"reconciliation": report})
        return report

    def _page(
        self, ubn: str, period: Period, phase: str, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        low, high = period.first_day.isoformat(), period.last_day.isoformat() + "~"
        return self._records.page(ubn, phase, low, high, cursor, self._page_size)


def _add(target: dict[str, int], changes: Mapping[str, int]) -> None:
    for name, value in changes.items():
        target[name] = target.get(name, 0) + int(value)


def _count(phase: str, item: Mapping[str, Any], period: Period, sums: dict[str, dict[str, int]]) -> None:
    if phase in ("invoices", "received"):
        record = InvoiceRecord.model_validate(item)
        if record.period != period.code:
            return
        if phase == "invoices":
            target = sums.setdefault(record.invoice_type, {})
            if record.status == "issued":
                _add(target, totals_changes(record))
            elif record.status == "cancelled":
                _add(target, {"cancelled_count": 1})
            return
        # An exchanged invoice is the buyer's purchase only once it confirmed it (A0102).
        found = purchases_changes(record) if counts_for_buyer(record.status, record.exchange) else None
        if found is not None:
            _add(sums.setdefault("purchases", {}), found[1])
        return
    allowance = AllowanceRecord.model_validate(item)
    if allowance.period != period.code or allowance.status != "issued":
        return
    seller_side, buyer_side = counted_totals(allowance)
    if phase == "allowances":
        _add(sums.setdefault(allowance.invoice_type, {}), seller_side)
    elif buyer_side is not None:
        _add(sums.setdefault("purchases", {}), buyer_side[1])


def _progress(state: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "status": "running",
        "started_at": state["started_at"],
        "invoices_counted": int(state["counted"]),
        "phase": PHASES[min(int(state["phase"]), len(PHASES) - 1)],
        "differences": [],
    }
