"""Health: whether the parts the platform cannot work without answer, and how fast."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Protocol

from pydantic import BaseModel


class Probe(Protocol):
    name: str

    def check(self) -> None:
        """Return if the dependency answers; raise otherwise."""


class CheckResult(BaseModel):
    ok: bool
    latency_ms: float
    error: str | None = None


class HealthReport(BaseModel):
    status: str
    checks: dict[str, CheckResult]

    @property
    def healthy(self) -> bool:
        return all(check.ok for check in self.checks.values())


def check_health(probes: Iterable[Probe]) -> HealthReport:
    checks: dict[str, CheckResult] = {}
    for probe in probes:
        started = time.perf_counter()
        try:
            probe.check()
            error = None
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        latency = round((time.perf_counter() - started) * 1000, 1)
        checks[probe.name] = CheckResult(ok=error is None, latency_ms=latency, error=error)
    status = "ok" if all(c.ok for c in checks.values()) else "unavailable"
    return HealthReport(status=status, checks=checks)
