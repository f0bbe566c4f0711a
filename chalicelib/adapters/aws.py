"""boto3 clients built from settings, created on first use and reused while settings hold."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.settings import Settings, get_settings

# Requests fail fast rather than hold a Lambda (and the caller) for botocore's 60 s default.
_DEFAULT = Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"})
# Health checks must answer quickly even when a dependency is down.
_PROBE = Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1})


def _endpoint(settings: Settings, service: str) -> str | None:
    endpoint: str | None = getattr(settings, f"{service}_endpoint", None)
    return endpoint


@lru_cache(maxsize=32)
def _client(service: str, region: str, endpoint: str | None, probe: bool) -> Any:
    session = boto3.session.Session()
    return session.client(service, region_name=region, endpoint_url=endpoint, config=_PROBE if probe else _DEFAULT)


def client(service: str, *, probe: bool = False, settings: Settings | None = None) -> Any:
    settings = settings or get_settings()
    return _client(service, settings.region, _endpoint(settings, service), probe)
