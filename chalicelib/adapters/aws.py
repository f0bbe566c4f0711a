"""AWS clients built from settings, created on first use and reused while settings hold.

They are botocore's low-level clients, which is all boto3's ``client()`` returns: importing boto3
itself (s3transfer, the resource layer) cost ~35 ms of every cold start. All come from one botocore
session, so the second client does not load botocore's endpoint and model data again.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

import botocore.session
from botocore.config import Config

from chalicelib.settings import Settings, get_settings

# Requests fail fast rather than hold a Lambda (and the caller) for botocore's 60 s default.
_DEFAULT = Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"})
# Health checks must answer quickly even when a dependency is down.
_PROBE = Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1})


def _endpoint(settings: Settings, service: str) -> str | None:
    endpoint: str | None = getattr(settings, f"{service}_endpoint", None)
    return endpoint


_creating = threading.Lock()


@lru_cache(maxsize=1)
def _session() -> Any:
    return botocore.session.get_session()


def new_client(service: str, region: str, endpoint: str | None, config: Config) -> Any:
    """A new client of ``service`` (callers cache it). Serialised: creating clients from one session
    in several threads at once is not safe."""
    with _creating:
        return _session().create_client(service, region_name=region, endpoint_url=endpoint, config=config)


@lru_cache(maxsize=32)
def _client(service: str, region: str, endpoint: str | None, probe: bool) -> Any:
    return new_client(service, region, endpoint, _PROBE if probe else _DEFAULT)


def client(service: str, *, probe: bool = False, settings: Settings | None = None) -> Any:
    settings = settings or get_settings()
    return _client(service, settings.region, _endpoint(settings, service), probe)
