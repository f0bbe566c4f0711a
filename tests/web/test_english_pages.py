"""In English, a page speaks English: every label, button, legend, heading and table header of
every page without an id in its path, for a merchant and for staff. A domain term may keep its
Chinese in brackets beside the English ("Track (字軌)"), as the product's style asks."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

import app  # noqa: F401 - importing the app registers every page in PAGES
from chalicelib.web.pages import PAGES
from tests.web.conftest import Console, text_of

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_BRACKETED = re.compile(r"[(（][^()（）]*[)）]|「[^」]*」")
_WATCHED = {"label", "button", "legend", "h1", "h2", "h3", "th", "summary", "option"}


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.texts: list[tuple[str, str]] = []
        self._lang_zh = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("input", "br", "img", "meta", "link", "hr"):
            return
        self.stack.append(tag)
        if dict(attrs).get("lang", "").startswith("zh"):
            self._lang_zh += 1  # the language switch names Chinese in Chinese, on purpose

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        watched = next((t for t in reversed(self.stack) if t in _WATCHED), None)
        if watched and data.strip():
            self.texts.append((watched, data.strip()))


def _chinese_left(html: str, allowed: set[str]) -> list[tuple[str, str]]:
    parser = _Texts()
    parser.feed(html)
    found = []
    for tag, text in parser.texts:
        stripped = _BRACKETED.sub("", text)
        for name in allowed:
            stripped = stripped.replace(name, "")
        if _CJK.search(stripped):
            found.append((tag, text))
    return found


def _plain_pages(audience: str) -> list[str]:
    # downloads answer files, not pages
    return sorted(
        {
            p.path
            for p in PAGES
            if p.auth == audience and "GET" in p.methods and "{" not in p.path and not p.path.endswith("/download")
        }
    )


@pytest.mark.parametrize("path", _plain_pages("merchant") + _plain_pages("public"))
def test_a_merchant_page_in_english_has_no_chinese_labels(signed_in, path: str) -> None:
    browser, merchant = signed_in()
    response = browser.get(f"{path}?lang=en")
    if response.status_code in (301, 302, 303):
        return  # a page that sends a signed-in merchant elsewhere (the sign-in page) has nothing to read
    assert response.status_code == 200, (path, response.status_code)
    assert _chinese_left(text_of(response), {merchant.name}) == [], path


@pytest.mark.parametrize("path", _plain_pages("public"))
def test_a_page_for_strangers_in_english_has_no_chinese_labels(console: Console, path: str) -> None:
    response = console.get(f"{path}?lang=en")
    if response.status_code in (301, 302, 303):
        return
    assert response.status_code == 200, (path, response.status_code)
    assert _chinese_left(text_of(response), set()) == [], path


@pytest.mark.parametrize("path", _plain_pages("staff"))
def test_a_staff_page_in_english_has_no_chinese_labels(client, staff_headers, path: str) -> None:
    browser = Console(client)
    browser.sign_in_staff()
    response = browser.get(f"{path}?lang=en")
    assert response.status_code == 200, (path, response.status_code)
    assert _chinese_left(text_of(response), set()) == [], path
