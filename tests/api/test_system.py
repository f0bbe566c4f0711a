"""System routes and the API's error model, as a client sees them over HTTP."""

from __future__ import annotations

import json

import boto3

from chalicelib.settings import DEFAULT_MAIL_FROM


def _error(response) -> dict:
    body = json.loads(response.body)
    assert set(body) == {"error"}
    assert {"code", "message", "message_zh", "field"} <= set(body["error"])
    return body["error"]


def test_health_reports_both_parts_up(client):
    response = client.http.get("/health")
    assert response.status_code == 200
    body = json.loads(response.body)
    assert body["status"] == "ok"
    assert body["checks"]["dynamodb"]["ok"] is True
    assert body["checks"]["s3"]["ok"] is True


def test_every_response_carries_a_request_id_and_echoes_the_callers(client):
    generated = client.http.get("/health")
    assert generated.headers["X-Request-Id"]
    echoed = client.http.get("/health", headers={"X-Request-Id": "erp-batch-42"})
    assert echoed.headers["X-Request-Id"] == "erp-batch-42"


def test_unknown_route_is_a_json_404(client):
    response = client.http.get("/v1/no-such-thing")
    assert response.status_code == 404
    assert _error(response)["code"] == "NOT_FOUND"


def test_wrong_method_is_a_json_405(client):
    response = client.http.delete("/health")
    assert response.status_code == 405
    error = _error(response)
    assert error["code"] == "METHOD_NOT_ALLOWED"
    assert error["message_zh"]


def test_openapi_documents_every_route(client):
    from app import app

    response = client.http.get("/openapi.json")
    assert response.status_code == 200
    spec = json.loads(response.body)
    assert spec["openapi"].startswith("3.1")
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            if getattr(entry.view_function, "is_console_page", False):
                # the web console's HTML pages are for people, not part of the API
                assert method.lower() not in spec["paths"].get(path, {}), f"{method} {path} is a console page"
                continue
            assert method.lower() in spec["paths"][path], f"{method} {path} missing from OpenAPI"
    assert "Error" in spec["components"]["schemas"]
    assert "/console" not in spec["paths"] and "/login" not in spec["paths"]


def test_docs_page_is_html_that_loads_the_openapi_document(client):
    response = client.http.get("/docs")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "openapi.json" in response.body.decode()


def test_local_outbox_shows_mail_and_sms_sent_through_moto(client, local_aws):
    env = local_aws.environment()
    kwargs = {"region_name": "ap-northeast-1"}
    boto3.client("ses", endpoint_url=env["AWS_ENDPOINT_URL_SES"], **kwargs).send_email(
        Source=DEFAULT_MAIL_FROM,
        Destination={"ToAddresses": ["buyer@example.com"]},
        Message={"Subject": {"Data": "驗證碼"}, "Body": {"Text": {"Data": "您的驗證碼 482913"}}},
    )
    boto3.client("sns", endpoint_url=env["AWS_ENDPOINT_URL_SNS"], **kwargs).publish(
        PhoneNumber="+886912345678", Message="驗證碼 112233"
    )
    response = client.http.get("/local/outbox")
    assert response.status_code == 200
    outbox = json.loads(response.body)
    assert any(m["to"] == ["buyer@example.com"] and "482913" in m["body"] for m in outbox["emails"])
    assert any(s["phone_number"] == "+886912345678" and "112233" in s["message"] for s in outbox["sms"])


def test_openapi_references_all_resolve(client):
    spec = json.loads(client.http.get("/openapi.json").body)
    text = json.dumps(spec)
    import re

    for name in set(re.findall(r'"#/components/schemas/([^"]+)"', text)):
        assert name in spec["components"]["schemas"], f"dangling $ref {name}"
    assert "#/$defs/" not in text


def test_openapi_documents_request_bodies_and_auth(client):
    spec = json.loads(client.http.get("/openapi.json").body)
    login = spec["paths"]["/v1/auth/login"]["post"]
    assert "requestBody" in login
    assert "security" not in login
    merchant = spec["paths"]["/v1/merchant"]["get"]
    assert merchant["security"]
    csv_import = spec["paths"]["/v1/admin/tax-registry/import"]["post"]
    assert "text/csv" in csv_import["requestBody"]["content"]
