"""Random number (隨機碼): 4 digits from a cryptographic source."""

from __future__ import annotations

import pytest

from chalicelib.domain.random_number import is_valid_random_number, new_random_number


class FixedSource:
    def __init__(self, value: int) -> None:
        self.value = value
        self.bounds: list[int] = []

    def randbelow(self, exclusive_upper_bound: int, /) -> int:
        self.bounds.append(exclusive_upper_bound)
        return self.value


@pytest.mark.parametrize(("drawn", "expected"), [(0, "0000"), (7, "0007"), (122, "0122"), (9999, "9999")])
def test_random_numbers_are_zero_padded_to_four_digits(drawn: int, expected: str) -> None:
    source = FixedSource(drawn)
    assert new_random_number(source) == expected
    assert source.bounds == [10_000]  # every value 0000-9999 is possible


def test_a_broken_source_is_not_silently_accepted() -> None:
    with pytest.raises(ValueError, match="outside"):
        new_random_number(FixedSource(10_000))


def test_default_source_gives_valid_and_varying_numbers() -> None:
    drawn = {new_random_number() for _ in range(200)}
    assert all(is_valid_random_number(value) for value in drawn)
    assert len(drawn) > 150  # 200 draws from 10,000 values almost never collide this much


@pytest.mark.parametrize("value", ["123", "12345", "12a4", "１２３４", ""])
def test_malformed_random_numbers(value: str) -> None:
    assert not is_valid_random_number(value)
