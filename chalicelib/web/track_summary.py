"""What the console says about periods (期別) and the numbers left in a merchant's tracks (字軌):
shared by the dashboard and the tracks pages, so both count the same way."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from chalicelib.api import deps
from chalicelib.domain.channels import API, ONLINE
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.services.tracks import RangeView
from chalicelib.web.i18n import Lang

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
POS_PREFIX = "pos:"


def current_period() -> Period:
    """The period of today in Taiwan (the invoice date decides the period, in Taiwan time)."""
    return Period.from_date(deps.clock.now().astimezone(TAIWAN_TZ).date())


def period_label(period: Period, lang: Lang) -> str:
    """``113年11-12月`` as on the proof of invoice, or ``Nov–Dec 2024``."""
    if lang == "en":
        return f"{_MONTHS_EN[period.start_month - 1]}–{_MONTHS_EN[period.end_month - 1]} {period.year}"
    return period.label_zh


def period_title(period: Period, lang: Lang) -> str:
    """The code with its months, as headings show a period: ``11312（113年11-12月）``."""
    if lang == "en":
        return f"{period.code} ({period_label(period, lang)})"
    return f"{period.code}（{period_label(period, lang)}）"


def period_choices(selected: Period, lang: Lang, *, back: int = 5) -> list[tuple[str, str]]:
    """The next period (ranges may be allocated ahead), the current one and a few before it."""
    now = current_period()
    periods = [now.next(), now]
    for _ in range(back):
        periods.append(periods[-1].previous())
    if selected not in periods:
        periods.append(selected)
    return [(p.code, f"{p.code} · {period_label(p, lang)}") for p in sorted(periods, reverse=True)]


def channel_label(channel: str, t: Callable[[str, str], str]) -> str:
    if channel == ONLINE:
        return t("線上開立", "Online (this console)")
    if channel == API:
        return "API"
    if channel.startswith(POS_PREFIX):
        return f"POS {channel[len(POS_PREFIX) :]}"
    return channel


@dataclass(frozen=True)
class ChannelStock:
    """Numbers a channel can still issue this period, over the booklets assigned to it."""

    channel: str
    remaining: int
    booklets: int


@dataclass(frozen=True)
class Stock:
    by_channel: list[ChannelStock]
    unassigned: int  # activated (取號) but given to no channel: no one can issue them yet
    not_activated: int  # allocated (配號) only

    @property
    def total(self) -> int:
        return sum(c.remaining for c in self.by_channel)


def _channel_order(channel: str) -> tuple[int, str]:
    return ({ONLINE: 0, API: 1}.get(channel, 2), channel)


def stock_of(ranges: Iterable[RangeView]) -> Stock:
    remaining: dict[str, int] = {}
    booklets: dict[str, int] = {}
    unassigned = not_activated = 0
    for track_range in ranges:
        for booklet in track_range.booklets:
            if booklet.channel:
                remaining[booklet.channel] = remaining.get(booklet.channel, 0) + booklet.remaining
                booklets[booklet.channel] = booklets.get(booklet.channel, 0) + 1
            elif booklet.status == "active":
                unassigned += booklet.remaining
            elif booklet.status == "allocated":
                not_activated += booklet.remaining
    return Stock(
        by_channel=[
            ChannelStock(channel, remaining[channel], booklets[channel])
            for channel in sorted(remaining, key=_channel_order)
        ],
        unassigned=unassigned,
        not_activated=not_activated,
    )
