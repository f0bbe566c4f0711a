"""The CAPTCHA: answers, their HMAC binding, and an image that does not give the answer away."""

from __future__ import annotations

import base64
import io
import re

import pytest

from chalicelib.security import captcha

KEY = b"k" * 32
LENGTH_OF_ANSWER = 5


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


def test_the_picture_is_a_png_of_the_expected_size() -> None:
    from PIL import Image

    png = captcha.render_png("K7M3P")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    picture = Image.open(io.BytesIO(png))
    assert picture.size == (captcha.WIDTH, captcha.HEIGHT)
    assert b"K7M3P" not in png


def test_two_pictures_of_the_same_answer_differ() -> None:
    assert captcha.render_png("K7M3P") != captcha.render_png("K7M3P")


def test_every_character_can_be_drawn_and_the_data_url_decodes() -> None:
    png = captcha.render_png(captcha.ALPHABET[:LENGTH_OF_ANSWER])
    url = captcha.data_url(png)
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == png
    for start in range(0, len(captcha.ALPHABET), 5):
        assert captcha.render_png(captcha.ALPHABET[start : start + 5])
