"""Blank-number ranges (E0402) from booklet usage."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.blank_numbers import BlankRange, BookletUse, blank_ranges


def test_hand_worked_period():
    # Range AB 12345600-12345799 (4 booklets):
    #   12345600-49 issued up to 12345637 -> 12345638..12345649 blank
    #   12345650-99 never used            -> blank, continues the previous range
    #   12345700-49 fully issued          -> nothing
    #   12345750-99 issued up to 12345760 -> 12345761..12345799 blank
    # and a second track CD 00000000-00000049 never touched.
    uses = [
        BookletUse("07", "AB", 12345600, 12345649, 12345638),
        BookletUse("07", "AB", 12345650, 12345699, 12345650),
        BookletUse("07", "AB", 12345700, 12345749, 12345750),
        BookletUse("07", "AB", 12345750, 12345799, 12345761),
        BookletUse("07", "CD", 0, 49, 0),
    ]
    assert blank_ranges(uses) == [
        BlankRange("07", "AB", 12345638, 12345699),
        BlankRange("07", "AB", 12345761, 12345799),
        BlankRange("07", "CD", 0, 49),
    ]


def test_a_fully_used_period_has_no_blank_numbers():
    assert blank_ranges([BookletUse("07", "AB", 0, 49, 50), BookletUse("07", "AB", 50, 99, 100)]) == []


@st.composite
def usages(draw):
    count = draw(st.integers(min_value=1, max_value=12))
    starts = sorted(draw(st.sets(st.integers(min_value=0, max_value=200), min_size=count, max_size=count)))
    result = []
    for index in starts:
        begin = index * 50
        result.append(BookletUse("07", "AB", begin, begin + 49, draw(st.integers(begin, begin + 50))))
    return result


@given(usages())
def test_every_unused_number_is_reported_exactly_once(uses):
    ranges = blank_ranges(uses)
    reported = [n for r in ranges for n in range(r.begin, r.end + 1)]
    expected = [n for u in uses for n in range(u.first_unused, u.end + 1)]
    assert sorted(reported) == sorted(expected)
    assert len(reported) == len(set(reported))
    for left, right in itertools.pairwise(ranges):
        assert left.end + 1 < right.begin  # non-overlapping and maximal
