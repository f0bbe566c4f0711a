"""Run benchmarks against the same local parts as the tests: `python -m bench.run [NAME ...]`."""

from __future__ import annotations

import importlib
import os
import sys

from bench.harness import Figure, checks_text, machine, write_results

BENCHMARKS = (
    "throughput",
    "issuing",
    "pdf",
    "cold_start",
    "mig_xml",
    "query",
    "filing",
    "console",
    "rate_limits",
    "scale",
)


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-with-at-least-32-characters")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    # Request logs and EMF metrics would flood the output and add printing time to the figures.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    from infra.local import running

    results: dict[str, list[Figure]] = {}
    with running(stage="local") as stack:
        os.environ.update(stack.environment())
        for name in names:
            print(f"running {name}…", flush=True)
            results[name] = importlib.import_module(f"bench.{name}").run()
    path = write_results(results, machine(), BENCHMARKS)
    print(path.read_text(encoding="utf-8"))
    failed = [f for figures in results.values() for f in figures if f.failed_checks]
    for figure in failed:
        print(f"CHECK FAILED: {figure.benchmark} / {figure.name}: {checks_text(figure)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
