"""A channel's number counter (字軌 booklets in use) as issuing reads it, and running out of numbers."""

from __future__ import annotations

from dataclasses import dataclass, replace

from chalicelib.domain.errors import Conflict


@dataclass(frozen=True)
class Counter:
    """A channel's numbering state for one period and invoice type."""

    period: str
    invoice_type: str
    channel: str
    track: str | None
    begin: int | None
    end: int | None
    next_no: int | None
    queue: tuple[str, ...]  # "TRACK#BEGIN8", in the order they will be used
    remaining: int
    last_issued_at: str
    version: int
    low_stock_notified: bool  # the low-stock notice was sent
    low_stock_notice: str | None = None  # the invoice number whose issue queued it

    @property
    def current_exhausted(self) -> bool:
        return self.next_no is None or self.end is None or self.next_no > self.end

    def after_taking(self, issued_at: str, low_stock_notice: str | None = None) -> Counter:
        """The counter as taking its next number leaves it (what the ledger's ``TakeNumber`` writes),
        so the writer can issue its next invoice without reading the counter again."""
        if self.next_no is None:
            raise ValueError("the counter's booklet is used up")
        return replace(
            self,
            next_no=self.next_no + 1,
            remaining=self.remaining - 1,
            last_issued_at=issued_at,
            low_stock_notice=low_stock_notice or self.low_stock_notice,
        )


class NoNumbersLeft(Conflict):
    pass
