"""The CAPTCHA: answers, their HMAC binding, and an image that does not give the answer away."""

from __future__ import annotations

import base64
import random
import re
import xml.etree.ElementTree as ET

import pytest

from chalicelib.security import captcha

KEY = b"k" * 32


def test_answers_are_five_characters_without_look_alikes() -> None:
    answers = {captcha.new_answer() for _ in range(500)}
    assert len(answers) > 490  # random, not a short list
    assert all(re.fullmatch(r"[A-Z2-9]{5}", answer) for answer in answers)
    used = set("".join(answers))
    assert not used & set("01OIQDZSGB8")


def test_the_answer_is_read_case_insensitively_and_full_width_typing_counts() -> None:
    stored = captcha.hash_answer("K7M3P", key=KEY, captcha_id="id-1")
    for typed in ("K7M3P", "k7m3p", " k7 m3p ", "Ｋ７Ｍ３Ｐ"):
        assert captcha.answer_matches(typed, stored, key=KEY, captcha_id="id-1"), typed
    for typed in ("K7M3", "K7M3PP", "K7M3R", "", None, 12345):
        assert not captcha.answer_matches(typed, stored, key=KEY, captcha_id="id-1"), typed


def test_an_answer_is_bound_to_its_challenge_and_key() -> None:
    stored = captcha.hash_answer("K7M3P", key=KEY, captcha_id="id-1")
    assert "K7M3P" not in stored
    assert not captcha.answer_matches("K7M3P", stored, key=KEY, captcha_id="id-2")
    assert not captcha.answer_matches("K7M3P", stored, key=b"o" * 32, captcha_id="id-1")
    assert not captcha.answer_matches("K7M3P", "證" * 64, key=KEY, captcha_id="id-1")
    with pytest.raises(ValueError):
        captcha.hash_answer("K7M3P", key=b"short", captcha_id="id-1")


def test_the_image_is_an_svg_of_strokes_with_no_text_in_it() -> None:
    svg = captcha.render_svg("K7M3P", random.Random(7))
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    tags = {element.tag.rsplit("}", 1)[-1] for element in root.iter()}
    assert tags <= {"svg", "rect", "circle", "path"}
    assert "K7M3P" not in svg and "text" not in tags
    # every stroke is a loose segment: the path data carries no per-character structure
    for path in root.iter("{http://www.w3.org/2000/svg}path"):
        assert re.fullmatch(r"(M[-\d.]+ [-\d.]+L[-\d.]+ [-\d.]+ ?)*", path.attrib["d"])


def test_two_pictures_of_the_same_answer_differ() -> None:
    assert captcha.render_svg("K7M3P") != captcha.render_svg("K7M3P")


def test_every_character_can_be_drawn_and_the_data_url_decodes() -> None:
    svg = captcha.render_svg(captcha.ALPHABET, random.Random(1))
    url = captcha.data_url(svg)
    assert url.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(url.split(",", 1)[1]).decode() == svg
