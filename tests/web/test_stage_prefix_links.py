"""Behind API Gateway the console lives under the stage (``/api/...``): every link, form, script and
redirect of every page must carry that prefix, or the browser leaves the app."""

from __future__ import annotations

import re

import pytest

from chalicelib.web import pages
from tests.api.conftest import STAFF_PASSWORD, STAFF_USERNAME
from tests.web.conftest import Console, text_of
from tests.web.test_english_pages import _plain_pages

_URL_ATTRS = re.compile(r'\b(?:href|action|src|hx-get|hx-post|formaction)="([^"]*)"')


def _outside_the_stage(html: str) -> list[str]:
    wrong = []
    for url in _URL_ATTRS.findall(html):
        if url.startswith(("/api/", "?", "#", "data:", "https://", "mailto:")) or url in ("", "/api"):
            continue
        wrong.append(url)
    return wrong


@pytest.fixture
def staged(monkeypatch) -> None:
    monkeypatch.setattr(pages, "stage_prefix", lambda request: "/api")


@pytest.mark.parametrize("path", _plain_pages("merchant"))
def test_merchant_pages_link_inside_the_stage(staged, signed_in, path: str) -> None:
    browser, _ = signed_in()
    response = browser.get(path)
    if response.status_code == 303:
        assert response.headers["Location"].startswith("/api/")
        return
    assert _outside_the_stage(text_of(response)) == [], path


@pytest.mark.parametrize("path", _plain_pages("staff") + _plain_pages("public"))
def test_staff_and_public_pages_link_inside_the_stage(staged, client, staff_headers, path: str) -> None:
    browser = Console(client)
    assert browser.post("/staff/login", {"username": STAFF_USERNAME, "password": STAFF_PASSWORD}).status_code == 303
    response = browser.get(path)
    if response.status_code == 303:
        assert response.headers["Location"].startswith("/api/")
        return
    assert _outside_the_stage(text_of(response)) == [], path


def test_a_stranger_is_sent_to_the_staged_sign_in(staged, console: Console) -> None:
    response = console.get("/console/invoices")
    assert response.status_code == 303 and response.headers["Location"].startswith("/api/login?next=")
