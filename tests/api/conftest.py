from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client, TestHTTPClient

from infra.gateway import GatewayResponsesLocalGateway


class ApiHTTPClient(TestHTTPClient):
    """Chalice's test HTTP client, answering unknown paths the way the deployed API Gateway does."""

    def __init__(self, app: Any, config: Any) -> None:
        super().__init__(app, config)
        self._local_gateway = GatewayResponsesLocalGateway(app, config)


class ApiClient(Client):
    @property
    def http(self) -> ApiHTTPClient:
        if self._http_client is None:
            self._http_client = ApiHTTPClient(self._app, self._chalice_config)
        return self._http_client  # type: ignore[return-value]


@pytest.fixture(autouse=True)
def _aws(local_aws: object) -> object:
    return local_aws


@pytest.fixture(scope="session")
def client(local_aws: object) -> Iterator[ApiClient]:
    from app import app

    with ApiClient(app, stage_name="local") as test_client:
        yield test_client
