"""A period's running totals by group, as read: the sums, and the items they came from.

Groups: ``07`` and ``08`` (sales of each invoice type) and ``purchases`` (the buyer side).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GENERAL, SPECIAL = "07", "08"
PURCHASES = "purchases"


@dataclass
class PeriodTotals:
    """The summed totals of a period by group, and the items they came from (by sort key)."""

    groups: dict[str, dict[str, int]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)

    def group(self, name: str) -> dict[str, int]:
        return self.groups.get(name, {})

    def items_of(self, name: str) -> dict[str, dict[str, Any]]:
        return {sk: item for sk, item in self.items.items() if group_of(sk) == name}


def group_of(sort_key: str) -> str:
    # TOTALS#<period>#<group>[#<shard>]
    return sort_key.split("#")[2]
