"""Sending one webhook attempt over HTTP(S): a POST with a timeout, no redirects followed, and
(outside the local stage) never to an address of the platform's own network."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from ipaddress import ip_address
from urllib.parse import urlsplit

from chalicelib.domain.webhooks import is_private_address

SNIPPET = 500


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer (timeout, refused, refused by us)
    latency_ms: int
    snippet: str
    error: str | None = None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a 3xx is the receiver's answer, not a new address to post events to


class HttpWebhookSender:
    def __init__(self, *, timeout_s: float, allow_private: bool) -> None:
        self._timeout_s = timeout_s
        self._allow_private = allow_private
        self._opener = urllib.request.build_opener(_NoRedirects)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        started = time.perf_counter()

        def elapsed() -> int:
            return int((time.perf_counter() - started) * 1000)

        if not self._allow_private and self._resolves_private(url):
            return Answer(None, elapsed(), "", "the host resolves to a private address")
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - checked URL
        try:
            with self._opener.open(request, timeout=self._timeout_s) as response:
                text = response.read(SNIPPET).decode("utf-8", "replace")
                return Answer(int(response.status), elapsed(), text)
        except urllib.error.HTTPError as error:
            text = error.read(SNIPPET).decode("utf-8", "replace") if error.fp else ""
            return Answer(int(error.code), elapsed(), text)
        except TimeoutError:
            return Answer(None, elapsed(), "", f"timed out after {self._timeout_s:g} s")
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            return Answer(None, elapsed(), "", f"{type(reason).__name__}: {reason}"[:200])

    @staticmethod
    def _resolves_private(url: str) -> bool:
        host = urlsplit(url).hostname or ""
        try:
            infos = socket.getaddrinfo(host, None)
        except OSError:
            return False  # the POST will fail to connect and say so
        return any(is_private_address(ip_address(info[4][0])) for info in infos)
