"""Every timestamp the API answers is ISO 8601 in Taiwan time (+08:00), whatever stored it."""

from __future__ import annotations

import re
from typing import Any

from tests.api import test_invoices
from tests.api.conftest import body_of, post_json
from tests.api.test_invoices import B2B

issuer = test_invoices.issuer

#: A date with a time of day: what a timestamp looks like, whichever offset it carries.
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _timestamps(value: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _timestamps(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in _timestamps(item, f"{path}[{index}]")]
    if isinstance(value, str) and _TIMESTAMP.match(value):
        return [(path, value)]
    return []


def test_every_timestamp_of_several_responses_is_taiwan_time(client, issuer):
    issued = body_of(post_json(client, "/v1/invoices", B2B, issuer.headers))
    number = issued["invoice_number"]
    line = {"original_invoice_number": number, "description": "折讓", "quantity": "1", "unit_price": "105"}
    allowance = body_of(post_json(client, "/v1/allowances", {"items": [{**line, "tax_type": "1"}]}, issuer.headers))
    cancelled = body_of(
        post_json(client, f"/v1/allowances/{allowance['allowance_number']}/cancel", {"reason": "誤開"}, issuer.headers)
    )
    responses = {
        "invoice": body_of(client.http.get(f"/v1/invoices/{number}", headers=issuer.headers)),
        "allowance": cancelled,
        "allowances": body_of(client.http.get("/v1/allowances", headers=issuer.headers)),
        "filings": body_of(client.http.get("/v1/filings", headers=issuer.headers)),
        "api_keys": body_of(client.http.get("/v1/api-keys", headers=issuer.headers)),
        "merchant": body_of(client.http.get("/v1/merchant", headers=issuer.headers)),
        "audit_log": body_of(client.http.get("/v1/merchant/audit-log", headers=issuer.headers)),
    }
    found = [(name + path, value) for name, body in responses.items() for path, value in _timestamps(body)]
    # Each kind of response carries at least one timestamp, so the check below is not vacuous.
    for name in ("invoice", "allowance", "api_keys", "audit_log"):
        assert any(where.startswith(name + ".") for where, _ in found), (name, responses[name])
    wrong = [(where, value) for where, value in found if not value.endswith("+08:00")]
    assert wrong == []
