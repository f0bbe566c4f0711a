"""What the tax office's (稽徵機關) screens read that no JSON route answers: the ranges allocated
(配號) in a period across merchants, whether a registered business has an account yet, and how far
each period job has got. Read-only; every change goes through the services the API uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.domain.clock import Clock
from chalicelib.domain.invoice_number import BOOKLET_SIZE
from chalicelib.domain.owners import merchant_owner
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.ubn import validate_ubn
from chalicelib.services.period_close import JOBS
from chalicelib.services.tracks import stored_range

#: A period's list shows this many ranges at most; narrow it by track or UBN to see the rest.
LIST_LIMIT = 200


class PeriodRanges(Protocol):
    def ranges(self, period: str, track: str | None, limit: int) -> tuple[list[dict[str, Any]], bool]: ...

    def count(self, period: str) -> int: ...


class MerchantRanges(Protocol):
    def items(self, ubn: str, kind: str, period: str) -> list[dict[str, Any]]: ...


class Profiles(Protocol):
    def get_profile(self, ubn: str) -> dict[str, Any] | None: ...


class CredentialReader(Protocol):
    def get(self, owner: str) -> Any: ...


class JobStates(Protocol):
    def job(self, name: str, period: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class AllocatedRange:
    ubn: str
    period: str
    invoice_type: str
    track: str
    begin_no: str
    end_no: str
    source: str
    allocated_by: str | None
    allocated_at: str | None

    @property
    def track_id(self) -> str:
        return f"{self.period}-{self.invoice_type}-{self.track}-{self.begin_no}"

    @property
    def booklets(self) -> int:
        return (int(self.end_no) - int(self.begin_no) + 1) // BOOKLET_SIZE


@dataclass(frozen=True)
class AccountState:
    """A business's platform account: none yet, issued but the initial password unchanged, or in use."""

    exists: bool
    must_change_password: bool = False
    signup_method: str | None = None
    created_at: str | None = None


@dataclass(frozen=True)
class JobState:
    job: str
    period: str
    started: bool
    done: bool
    merchants: int
    notified: int
    started_at: str | None
    finished_at: str | None


def _allocated(item: dict[str, Any]) -> AllocatedRange:
    return AllocatedRange(
        ubn=str(item.get("ubn") or str(item["pk"]).removeprefix("MERCHANT#")),
        **stored_range(item),
        allocated_by=item.get("allocated_by"),
        allocated_at=item.get("allocated_at"),
    )


class StaffOverview:
    def __init__(
        self,
        *,
        period_ranges: PeriodRanges,
        merchant_ranges: MerchantRanges,
        profiles: Profiles,
        credentials: CredentialReader,
        jobs: JobStates,
        clock: Clock,
    ) -> None:
        self._period_ranges = period_ranges
        self._merchant_ranges = merchant_ranges
        self._profiles = profiles
        self._credentials = credentials
        self._jobs = jobs
        self._clock = clock

    def current_period(self) -> Period:
        return Period.from_date(self._clock.now().astimezone(TAIWAN_TZ).date())

    def allocations(
        self, period: Period, *, ubn: str | None = None, track: str | None = None, limit: int = LIST_LIMIT
    ) -> tuple[list[AllocatedRange], bool]:
        """The period's ranges (one merchant's, or one track's), and whether the list was cut at ``limit``."""
        if ubn:
            validate_ubn(ubn, "ubn")
            rows = [_allocated(item) for item in self._merchant_ranges.items(ubn, "RANGE", period.code)]
            rows = sorted((r for r in rows if not track or r.track == track), key=lambda r: (r.track, r.begin_no))
            return rows[:limit], len(rows) > limit
        items, more = self._period_ranges.ranges(period.code, track, limit)
        return [_allocated(item) for item in items], more

    def allocation_count(self, period: Period) -> int:
        return self._period_ranges.count(period.code)

    def account(self, ubn: str) -> AccountState:
        validate_ubn(ubn, "ubn")
        profile = self._profiles.get_profile(ubn)
        if profile is None:
            return AccountState(exists=False)
        credential = self._credentials.get(merchant_owner(ubn))
        return AccountState(
            exists=True,
            must_change_password=bool(getattr(credential, "must_change_password", False)),
            signup_method=profile.get("signup_method"),
            created_at=profile.get("created_at"),
        )

    def jobs(self, period: Period) -> list[JobState]:
        states = []
        for name in JOBS:
            state = self._jobs.job(name, period.code) or {}
            states.append(
                JobState(
                    job=name,
                    period=period.code,
                    started=bool(state),
                    done=bool(state.get("done")),
                    merchants=int(state.get("merchants") or 0),
                    notified=int(state.get("notified") or 0),
                    started_at=state.get("started_at"),
                    finished_at=state.get("finished_at"),
                )
            )
        return states
