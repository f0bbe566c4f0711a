"""Every page, for every merchant and staff page without an id in its path, in both languages:
each input, select and text area has a visible label bound to it, each button and link says what
it does in text, and the page declares its language."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.web.conftest import Console, text_of
from tests.web.test_english_pages import _plain_pages

_UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class _Controls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.labels_for: set[str] = set()
        self.controls: list[dict[str, str]] = []
        self.open_label = 0
        self.buttons: list[str] = []
        self._button: list[str] | None = None
        self.html_lang = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.html_lang = a.get("lang", "")
        elif tag == "label":
            self.open_label += 1
            if a.get("for"):
                self.labels_for.add(a["for"])
        elif tag in ("input", "select", "textarea"):
            if tag != "input" or a.get("type", "text") not in _UNLABELLED_TYPES:
                self.controls.append({**a, "_tag": tag, "_wrapped": "1" if self.open_label else ""})
            elif a.get("type") in ("submit", "button") and not a.get("value"):
                self.buttons.append("")
        elif tag == "button":
            self._button = [a.get("aria-label", "")]

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.open_label = max(0, self.open_label - 1)
        elif tag == "button" and self._button is not None:
            self.buttons.append("".join(self._button).strip())
            self._button = None

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button.append(data)


def _problems(html: str) -> list[str]:
    parser = _Controls()
    parser.feed(html)
    found = []
    for control in parser.controls:
        labelled = control["_wrapped"] or (control.get("id") and control["id"] in parser.labels_for)
        if not labelled:
            found.append(f"{control['_tag']} name={control.get('name')!r} id={control.get('id')!r} has no label")
    found += ["a button without text" for text in parser.buttons if not text]
    if "<html" in html and parser.html_lang not in ("zh-TW", "en"):  # fragments for htmx have none
        found.append(f"<html lang={parser.html_lang!r}>")
    return found


@pytest.mark.parametrize("lang", ["zh-TW", "en"])
@pytest.mark.parametrize("path", _plain_pages("merchant") + _plain_pages("public"))
def test_merchant_pages_label_every_control(signed_in, path: str, lang: str) -> None:
    browser, _ = signed_in()
    response = browser.get(f"{path}?lang={lang}")
    if response.status_code in (301, 302, 303):
        return  # a page that sends a signed-in merchant elsewhere
    assert _problems(text_of(response)) == [], path


@pytest.mark.parametrize("lang", ["zh-TW", "en"])
@pytest.mark.parametrize("path", _plain_pages("public"))
def test_pages_for_strangers_label_every_control(console: Console, path: str, lang: str) -> None:
    response = console.get(f"{path}?lang={lang}")
    if response.status_code in (301, 302, 303):
        return  # the root sends a stranger to sign in
    assert response.status_code == 200, path
    assert _problems(text_of(response)) == [], path


@pytest.mark.parametrize("lang", ["zh-TW", "en"])
@pytest.mark.parametrize("path", _plain_pages("staff"))
def test_staff_pages_label_every_control(client, staff_headers, path: str, lang: str) -> None:
    browser = Console(client)
    browser.sign_in_staff()
    response = browser.get(f"{path}?lang={lang}")
    assert _problems(text_of(response)) == [], path
