"""Journeys in a real browser: Debian's Chromium driven by Playwright, against the platform served
by the same HTTP server `make run` uses (DynamoDB Local and moto behind it).

Nothing is downloaded: Playwright's bundled browsers are never installed; ``CHROMIUM`` (default
/usr/bin/chromium, installed by `make test` from Debian) is launched directly. Screenshots go to
build/test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Playwright, expect, sync_playwright

from tests.api.conftest import (  # noqa: F401 - fixtures shared with the API tests
    MERCHANT_PASSWORD,
    STAFF_PASSWORD,
    STAFF_USERNAME,
    Merchant,
    _aws,
    client,
    new_merchant,
    staff_headers,
)

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "test-artifacts" / "screenshots"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
# What the machine's closed network needs: no background calls home, no sandbox as root.
# The whole suite loads both cores: a server-side preview can take longer than Playwright's 5 s
# default for an expectation, though nothing is wrong. Waiting is not a timing assertion.
expect.set_options(timeout=15_000)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def base_url(local_http_server: str) -> str:
    return local_http_server


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    assert Path(executable).exists(), f"{executable} is missing: `make test` installs Debian's chromium"
    launched = playwright_driver.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
    yield launched
    launched.close()


def _new_context(browser: Browser, base_url: str, viewport: dict[str, int]) -> BrowserContext:
    context = browser.new_context(base_url=base_url, viewport=viewport, locale="zh-TW", accept_downloads=True)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A fresh browser (no cookies) at desktop size."""
    context = _new_context(browser, base_url, DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture
def new_page(browser: Browser, base_url: str) -> Iterator[Callable[..., Page]]:
    """More independent browsers in one test (two merchants side by side, or a phone)."""
    contexts: list[BrowserContext] = []

    def make(viewport: dict[str, int] | None = None) -> Page:
        context = _new_context(browser, base_url, viewport or DESKTOP)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    return target


def fits_a_phone(page: Page, what: str = "") -> None:
    """Nothing on the page is wider than a 375-px phone (no sideways scrolling)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], what


def pages_fit_a_phone(phone: Page, pages: Iterable[tuple[str, str]]) -> None:
    """Each (path, screenshot name) opens with its heading, fits the phone and is kept as a screenshot."""
    for path, name in pages:
        phone.goto(path)
        expect(phone.get_by_role("heading", level=1)).to_be_visible()
        fits_a_phone(phone, path)
        screenshot(phone, name)


def named(label: str) -> re.Pattern[str]:
    """A label exactly, but for the required mark (*) after it."""
    return re.compile(rf"^{re.escape(label)}\s*\*?$")


def menu(page: Page) -> Locator:
    """The console's menu of areas."""
    return page.get_by_role("navigation", name="功能選單")


def open_from_menu(page: Page, name: str) -> None:
    menu(page).get_by_role("link", name=name, exact=True).click()


def sign_in(page: Page, ubn: str, password: str = MERCHANT_PASSWORD) -> None:
    """Sign in through the page as a merchant types it (labels, not selectors)."""
    page.goto("/login")
    page.get_by_label(re.compile("統一編號|UBN")).fill(ubn)
    page.get_by_label(re.compile("^(密碼|Password)")).fill(password)
    page.get_by_role("button", name=re.compile("登入|Sign in")).click()
    page.wait_for_url(re.compile(r"/console"))


def sign_in_staff(page: Page) -> None:
    """Sign in on the staff page as the tax-office officer types it (``staff_headers`` made the account)."""
    page.goto("/staff/login")
    page.get_by_label("帳號").fill(STAFF_USERNAME)
    page.get_by_label("密碼").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="登入").click()
    expect(page.get_by_role("heading", name="稽徵機關", exact=True)).to_be_visible()


def outbox(base_url: str) -> dict[str, Any]:
    """The mail and SMS the platform sent (the local stage's outbox), as a person reads an inbox."""
    with urllib.request.urlopen(f"{base_url}/local/outbox") as answer:  # noqa: S310 - the local test server
        data: dict[str, Any] = json.loads(answer.read())
    return data


def last_code_sent_to(base_url: str, target: str) -> str:
    box = outbox(base_url)
    texts = [m["body"] for m in box["emails"] if target in m["to"]]
    texts += [s["message"] for s in box["sms"] if s["phone_number"] == target]
    assert texts, f"nothing was sent to {target}"
    match = re.search(r"\b(\d{6})\b", texts[-1])
    assert match, texts[-1]
    return match.group(1)


def api(base_url: str, method: str, path: str, payload: Any = None, headers: dict[str, str] | None = None) -> Any:
    """The JSON API over HTTP, for setting up what a journey does not itself click through."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(  # noqa: S310 - the local test server
        base_url + path, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
