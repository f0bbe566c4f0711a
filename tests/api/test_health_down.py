"""/health tells an operator which part is down, with a 503 a load balancer understands."""

from __future__ import annotations

import json

import pytest

from infra.local import DynamoDBLocal, create_tables


@pytest.fixture
def own_dynamodb(monkeypatch):
    """A DynamoDB Local of this test's own, so stopping it disturbs no other test."""
    ddb = DynamoDBLocal().start()
    create_tables(ddb.endpoint, "local")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", ddb.endpoint)
    yield ddb
    ddb.stop()


def test_health_is_503_naming_dynamodb_when_dynamodb_local_stops(client, own_dynamodb):
    assert client.http.get("/health").status_code == 200

    own_dynamodb.stop()
    response = client.http.get("/health")

    assert response.status_code == 503
    body = json.loads(response.body)
    assert body["status"] == "unavailable"
    assert body["checks"]["dynamodb"]["ok"] is False
    assert body["checks"]["dynamodb"]["error"]
    assert body["checks"]["s3"]["ok"] is True


def test_outbox_route_does_not_exist_outside_the_local_stage(local_aws):
    from app import app
    from tests.api.conftest import ApiClient

    with ApiClient(app, stage_name="dev") as dev_client:
        response = dev_client.http.get("/local/outbox")
    assert response.status_code == 404
    assert json.loads(response.body)["error"]["code"] == "NOT_FOUND"
