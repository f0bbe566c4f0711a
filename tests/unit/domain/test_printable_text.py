"""Text that prints on a legal document (issue 13 item 7): controls, BOM and bidi are refused.

The refused and kept characters are listed here from the rule as the issue states it (code points
written out), not taken from the module under test.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.printable_text import printable_text

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

REFUSED_RANGES = [
    (0x0000, 0x001F),  # C0 controls, tab and line breaks included
    (0x007F, 0x007F),  # DEL
    (0x0080, 0x009F),  # C1 controls
    (0x200B, 0x200C),  # zero-width space and non-joiner
    (0x200E, 0x200F),  # LRM, RLM
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2066, 0x2069),  # bidi isolates
    (0x2028, 0x2029),  # line and paragraph separators
    (0xD800, 0xDFFF),  # lone surrogates
    (0xFDD0, 0xFDEF),  # noncharacters
]
REFUSED_SINGLES = [0x061C, 0xFEFF, 0x00AD, 0x2060, 0xFFFE, 0xFFFF, 0x1FFFE, 0x10FFFF, 0xE0041, 0xE0001]

refused = st.one_of(*(st.integers(low, high) for low, high in REFUSED_RANGES), st.sampled_from(REFUSED_SINGLES)).map(
    chr
)

# What a merchant's texts are made of: ASCII, CJK (Ext B too), full-width punctuation, 造字 in the
# private-use area and emoji, including ZWJ sequences, variation selectors, keycaps and tag flags.
EMOJI = [
    "☕️",
    "👨\u200d👩\u200d👧",
    "🏳️\u200d🌈",
    "1️⃣",
    "👍🏽",
    "🇹🇼",
    "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # flag of Scotland
]
atoms = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF),
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),
    st.sampled_from(["\u3000", "、", "。", "「", "」", "『", "』", "〔", "〕", "…", "—"]),
    st.characters(min_codepoint=0xE000, max_codepoint=0xF8FF),
    st.sampled_from(EMOJI),
)
kept_texts = st.lists(atoms, max_size=40).map("".join)


@SETTINGS
@given(kept_texts)
def test_cjk_emoji_and_ascii_pass_unchanged(text: str) -> None:
    assert printable_text(text, "items[0].description") == text


@SETTINGS
@given(kept_texts, refused, kept_texts)
def test_any_refused_character_is_named_with_its_field_and_position(before: str, bad: str, after: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        printable_text(before + bad + after, "items[0].description")
    error = caught.value
    assert error.code == "INVALID_CHARACTERS"
    assert error.field == "items[0].description"
    point = f"U+{ord(bad):04X}"
    position = len(before) + 1
    assert point in error.message and point in error.message_zh
    assert f"Character {position} " in error.message
    assert f"第 {position} 個字元" in error.message_zh


def test_a_right_to_left_override_is_named() -> None:
    # RLO + "1000 cod" prints as "doc 0001": the classic invoice spoof.
    with pytest.raises(InvalidInput) as caught:
        printable_text("拿鐵\u202e1000 cod", "description")
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in caught.value.message


def test_tag_characters_only_inside_a_flag() -> None:
    scotland = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    assert printable_text(scotland) == scotland
    # the same tags without the black flag, or without the cancel tag, are hidden ASCII
    for hidden in ("ok\U000e0067\U000e0062\U000e007f", "\U0001f3f4\U000e0067\U000e0062"):
        with pytest.raises(InvalidInput):
            printable_text(hidden)
