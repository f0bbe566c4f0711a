"""Links and cookies follow API Gateway's stage prefix: the console works at /api/... as at /."""

from __future__ import annotations

from types import SimpleNamespace

from chalicelib.web.pages import stage_prefix


def _request(asked: str, route_path: str) -> SimpleNamespace:
    return SimpleNamespace(context={"path": asked}, _event_dict={"path": route_path})


def test_the_stage_is_what_the_browser_asked_for_before_the_route() -> None:
    assert stage_prefix(_request("/api/console/invoices/AB12345678", "/console/invoices/AB12345678")) == "/api"
    assert stage_prefix(_request("/prod/v2/login", "/login")) == "/prod/v2"


def test_locally_and_on_a_custom_domain_root_there_is_none() -> None:
    assert stage_prefix(_request("/console", "/console")) == ""
    assert stage_prefix(_request("/", "/")) == ""
    assert stage_prefix(_request("", "")) == ""
