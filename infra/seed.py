"""Demo data for `make run`, so a newcomer has something to work with at once.

Later capabilities add their part here (the demo merchant, its tracks, staff login). Seeding is
idempotent: running `make run` again keeps what exists.
"""

from __future__ import annotations

from collections.abc import Iterator

from infra.local import LocalStack


def seed_demo(stack: LocalStack) -> Iterator[str]:
    del stack  # nothing to seed until merchants exist
    yield from ()
