"""Blank (unused) invoice numbers of a period: what the E0402 report declares to the MOF.

Every number allocated to the merchant and not issued must be reported by the 10th of the next
period, as ranges from the first unused number to the end, never overlapping (the platform
rejects a whole file whose ranges overlap).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class BookletUse:
    """One booklet and the first number in it that was not issued (``end + 1`` when all were)."""

    invoice_type: str
    track: str
    begin: int
    end: int
    first_unused: int

    def __post_init__(self) -> None:
        if not self.begin <= self.first_unused <= self.end + 1:
            raise ValueError("first_unused must lie within the booklet, or just past its end")


@dataclass(frozen=True, order=True)
class BlankRange:
    invoice_type: str
    track: str
    begin: int
    end: int

    @property
    def count(self) -> int:
        return self.end - self.begin + 1


def blank_ranges(booklets: Iterable[BookletUse]) -> list[BlankRange]:
    """The unused numbers as the fewest non-overlapping ranges, sorted by type, track and number.

    Adjacent unused stretches merge: a fully unused booklet right after a partly used one
    continues its range.
    """
    merged: list[BlankRange] = []
    for booklet in sorted(set(booklets)):
        if booklet.first_unused > booklet.end:
            continue
        begin, end = booklet.first_unused, booklet.end
        last = merged[-1] if merged else None
        if (
            last is not None
            and (last.invoice_type, last.track) == (booklet.invoice_type, booklet.track)
            and last.end + 1 == begin
        ):
            merged[-1] = BlankRange(last.invoice_type, last.track, last.begin, end)
        else:
            merged.append(BlankRange(booklet.invoice_type, booklet.track, begin, end))
    return merged
