"""The console's page times against the JSON route that does the same work, in the same run: the
dashboard (``GET /v1/merchant``), the invoice list (``GET /v1/invoices``, the same page size) and
the issue form's submit (``POST /v1/invoices`` with the same invoice). Both go through the Chalice
test client, so the ratio is what rendering HTML, reading the session cookie and checking the
CSRF token add to the use case."""

from __future__ import annotations

import json
import secrets
import statistics
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from bench.fixtures import B2C_BODY, BENCH_PASSWORD, issuing_merchant
from bench.harness import Figure

RUNS = 40
WARMUP = 5
LISTED = 60  # invoices on the merchant before the list is measured: a full page of 20
_HOST = {"Host": "127.0.0.1:8000"}


class _Browser:
    """A cookie jar over the Chalice test client, as a browser keeps one."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.cookies: dict[str, str] = {}

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {**_HOST, **({"Cookie": cookie} if cookie else {}), **(extra or {})}

    def _keep(self, response: Any) -> Any:
        raw = next((v for k, v in response.headers.items() if k.lower() == "set-cookie"), None)
        for line in raw if isinstance(raw, list) else ([raw] if raw else []):
            name, _, value = str(line).split(";", 1)[0].partition("=")
            self.cookies[name] = value
        return response

    def get(self, path: str) -> Any:
        return self._keep(self.client.http.get(path, headers=self._headers()))

    def post(self, path: str, form: dict[str, str]) -> Any:
        body = urlencode({"csrf_token": self.cookies.get("einv_csrf", ""), **form})
        headers = self._headers({"Content-Type": "application/x-www-form-urlencoded"})
        return self._keep(self.client.http.post(path, headers=headers, body=body))


def _issue_form() -> dict[str, str]:
    """The form a person fills in for B2C_BODY: a mobile-barcode carrier, one tax-inclusive item."""
    item = B2C_BODY["items"][0]
    return {
        "idempotency_key": secrets.token_urlsafe(24),
        "buyer_kind": "b2c",
        "delivery": "carrier",
        "carrier_kind": "mobile_barcode",
        "carrier.id": B2C_BODY["carrier"]["id"],
        "prices_include_tax": "true",
        "items[0].description": item["description"],
        "items[0].quantity": item["quantity"],
        "items[0].unit_price": item["unit_price"],
        "items[0].tax_type": item["tax_type"],
    }


def _pair(
    page: Callable[[], Any], api: Callable[[], Any], page_ok: int, api_ok: int
) -> tuple[list[float], list[float]]:
    """Interleaved runs, so both sides see the same state of DynamoDB Local's JVM."""
    pages, apis = [], []
    for index in range(RUNS + WARMUP):
        for call, ok, into in ((page, page_ok, pages), (api, api_ok, apis)):
            started = time.perf_counter()
            response = call()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != ok:
                raise RuntimeError(f"{response.status_code}: {str(response.body)[:300]}")
            if index >= WARMUP:
                into.append(elapsed)
    return pages, apis


def _figure(name: str, pages: list[float], baseline: str, apis: list[float], notes: str) -> Figure:
    return Figure(
        benchmark="console",
        name=name,
        unit="ms",
        median=statistics.median(pages),
        spread=(min(pages), max(pages)),
        runs=len(pages),
        baseline_name=baseline,
        baseline=statistics.median(apis),
        higher_is_better=False,
        target="within 1.5× of the JSON route",
        notes=notes,
    )


def run() -> list[Figure]:
    from chalice.test import Client

    from app import app
    from chalicelib.api import deps
    from chalicelib.security.tokens import Role

    fleet = issuing_merchant({"online": (LISTED + 2 * (RUNS + WARMUP)) // 50 + 2})
    token = deps.auth_service().start_session(Role.MERCHANT, fleet.ubn, scopes=frozenset()).access_token
    api_headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = json.dumps(B2C_BODY)
    with Client(app, stage_name="local") as client:
        browser = _Browser(client)
        browser.get("/login")
        signed = browser.post("/login", {"ubn": fleet.ubn, "password": BENCH_PASSWORD})
        if signed.status_code != 303:
            raise RuntimeError(f"sign-in failed: {signed.status_code}")
        for _ in range(LISTED):
            client.http.post("/v1/invoices", headers=api_headers, body=body)

        def dashboard_by_api() -> Any:
            # what a client of the API reads for the same screen: profile, tracks, latest invoices
            client.http.get("/v1/merchant", headers=api_headers)
            client.http.get("/v1/tracks", headers=api_headers)
            return client.http.get("/v1/invoices?limit=5", headers=api_headers)

        dashboard = _pair(lambda: browser.get("/console"), dashboard_by_api, 200, 200)
        listing = _pair(
            lambda: browser.get("/console/invoices?limit=20"),
            lambda: client.http.get("/v1/invoices?limit=20", headers=api_headers),
            200,
            200,
        )
        issue = _pair(
            lambda: browser.post("/console/issue", _issue_form()),
            lambda: client.http.post("/v1/invoices", headers=api_headers, body=body),
            303,
            201,
        )
    return [
        _figure(
            "GET /console (dashboard)",
            dashboard[0],
            "GET /v1/merchant + /v1/tracks + /v1/invoices?limit=5",
            dashboard[1],
            "The dashboard shows what three JSON routes answer (the profile, the period's tracks with the "
            "numbers left per channel, the latest 5 invoices); the baseline calls them one after another, "
            "as a client of the API would.",
        ),
        _figure(
            "GET /console/invoices (20 per page)",
            listing[0],
            "GET /v1/invoices?limit=20",
            listing[1],
            "The same query (by-date index, newest first) rendered as an HTML table.",
        ),
        _figure(
            "POST /console/issue (the form's submit, 303 to the invoice)",
            issue[0],
            "POST /v1/invoices (the same invoice)",
            issue[1],
            "The same use case (InvoicingService.issue with an Idempotency-Key on the page side); the page "
            "adds parsing the form, the CSRF check and the session cookie.",
        ),
    ]
