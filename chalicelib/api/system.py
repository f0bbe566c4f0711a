"""System routes: health, the OpenAPI document and its human-readable page."""

from __future__ import annotations

from importlib import resources

from chalice.app import Blueprint, Response

from chalicelib.adapters.probes import DynamoDBProbe, S3Probe
from chalicelib.api.errors import json_response
from chalicelib.api.openapi import build_openapi
from chalicelib.api.routing import operation
from chalicelib.services.health import HealthReport, check_health

bp = Blueprint(__name__)


@operation(
    bp,
    "/health",
    summary="Health: 200 when DynamoDB and S3 answer, 503 naming the part that does not",
    tag="System",
    auth="public",
    response=HealthReport,
    errors=(503,),
)
def health() -> Response:
    report = check_health([DynamoDBProbe(), S3Probe()])
    return json_response(report.model_dump(mode="json"), 200 if report.healthy else 503, {"Cache-Control": "no-store"})


@operation(bp, "/openapi.json", summary="OpenAPI 3.1 document of every route", tag="System", auth="public")
def openapi_document() -> Response:
    return json_response(build_openapi(bp.current_app))


@operation(
    bp,
    "/docs",
    summary="Human-readable API documentation",
    tag="System",
    auth="public",
    response_content_type="text/html",
)
def docs_page() -> Response:
    page = resources.files("chalicelib.api").joinpath("static/docs.html").read_text(encoding="utf-8")
    return Response(body=page, status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})
