"""Errors carry the MOF's official result code (`mof_code`) beside our own `code` (issue 15 item 2).

The expected codes are those of mof-error-codes.tsv (Turnkey 3.2.0's message bundle), e.g. E0201
「訊息重複」, E0209 「發票日期及票號必須依序」, E0221 「折讓金額大於發票銷售額減已折讓金額」.
"""

# ruff: noqa: F811 - fixtures imported from sibling test modules are parameters of these tests

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.adapters.dynamo_invoices import DynamoInvoices
from chalicelib.api.errors import error_body
from chalicelib.api.mof_codes import MOF_CODES, OVERRIDES
from chalicelib.domain.period import TAIWAN_TZ
from tests.api.conftest import body_of, post_json
from tests.api.test_allowances import _allow, _invoice, _line
from tests.api.test_invoices import B2C_CARRIER, issuer  # noqa: F401 - the issuer fixture
from tests.api.test_mig_intake import _post, _xml
from tests.api.test_tracks import _allocate, _begin, _track

OFFICIAL = Path("/work/shared/reference/mof-error-codes.tsv")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "mof-codes.md"


def _subset(found: dict, expected: dict) -> bool:
    return {key: found.get(key) for key in expected} == expected


def _official() -> dict[str, tuple[str, str]]:
    with OFFICIAL.open(encoding="utf-8") as handle:
        return {row["code"]: (row["message_zh"], row["message_en"]) for row in csv.DictReader(handle, delimiter="\t")}


def test_every_mapped_code_is_an_official_one_with_its_official_text():
    official = _official()
    for code, (mof, zh, _en) in {**MOF_CODES, **{f"override {k}": v for k, v in OVERRIDES.items()}}.items():
        assert mof in official, code
        assert zh == official[mof][0], code


@pytest.mark.parametrize("code", sorted(MOF_CODES))
def test_the_error_body_of_every_mapped_code_carries_its_mof_code(code):
    body = error_body(code, "m", "訊息", "f")["error"]
    assert body["mof_code"] == MOF_CODES[code][0]
    assert (body["code"], body["message"], body["message_zh"], body["field"]) == (code, "m", "訊息", "f")


def test_an_unmapped_code_has_no_mof_code_and_the_body_is_unchanged():
    assert error_body("INVALID_UBN", "m", "訊息", "buyer.ubn") == {
        "error": {"code": "INVALID_UBN", "message": "m", "message_zh": "訊息", "field": "buyer.ubn"}
    }


def test_the_mapping_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    for code, (mof, _zh, _en) in MOF_CODES.items():
        assert f"| `{code}` | {mof} |" in text
    for mof in OVERRIDES:
        assert f"| {mof} |" in text


# --- real requests -------------------------------------------------------------------------------


def test_allowance_over_what_remains_is_e0221(client, issuer):
    number = _invoice(client, issuer)
    refused = _allow(client, issuer, _line(number, "99999"))
    assert refused.status_code == 422
    assert _subset(body_of(refused)["error"], {"code": "ALLOWANCE_EXCEEDS_INVOICE", "mof_code": "E0221"})


def test_cancel_with_allowances_in_force_is_e0213(client, issuer):
    response = post_json(client, "/v1/invoices", B2C_CARRIER, issuer.headers)
    number = body_of(response)["invoice_number"]
    DynamoInvoices().set_fields(issuer.ubn, number, {"allowance_count": 1})
    refused = post_json(client, f"/v1/invoices/{number}/cancel", {"reason": "退貨"}, issuer.headers)
    assert refused.status_code == 409
    error = body_of(refused)["error"]
    assert (error["code"], error["mof_code"]) == ("HAS_ALLOWANCES", "E0213")


def test_mig_numbers_out_of_order_not_allocated_and_repeated(client, issuer):
    first = f"{issuer.track}{issuer.begin:08d}"
    skipped = _post(client, issuer.key_headers, _xml(issuer.ubn, f"{issuer.track}{issuer.begin + 5:08d}"))
    assert _subset(body_of(skipped)["results"][0], {"code": "NOT_NEXT_NUMBER", "mof_code": "E0209"})

    outside = "ZZ99999999" if issuer.track != "ZZ" else "YY99999999"
    foreign = _post(client, issuer.key_headers, _xml(issuer.ubn, outside))
    assert foreign.status_code == 422
    assert _subset(body_of(foreign)["results"][0], {"code": "NUMBER_NOT_ALLOCATED", "mof_code": "E0102"})

    yesterday = datetime.now(TAIWAN_TZ) - timedelta(days=1)
    early = _post(
        client,
        issuer.key_headers,
        _xml(issuer.ubn, first, at=(yesterday.date(), yesterday.time().replace(microsecond=0))),
    )
    assert _subset(body_of(early)["results"][0], {"code": "INVOICE_DATE_NOT_TODAY", "mof_code": "E1002"})

    wrong_total = _post(client, issuer.key_headers, _xml(issuer.ubn, first, total=131))
    assert _subset(body_of(wrong_total)["results"][0], {"code": "AMOUNT_MISMATCH", "mof_code": "E0103"})

    assert _post(client, issuer.key_headers, _xml(issuer.ubn, first)).status_code == 201
    other = _xml(issuer.ubn, first).replace("拿鐵咖啡".encode(), "美式咖啡".encode())
    again = _post(client, issuer.key_headers, other)
    assert _subset(body_of(again)["results"][0], {"code": "NUMBER_ALREADY_USED", "mof_code": "E0201"})


def test_numbers_allocated_to_another_merchant_are_e0113(client, staff_headers, new_merchant):
    first, second = new_merchant(), new_merchant()
    track, begin = _track(), _begin(10)
    assert _allocate(client, staff_headers, first.ubn, track, begin, 4).status_code == 201
    clash = _allocate(client, staff_headers, second.ubn, track, begin + 150, 4)
    assert clash.status_code == 409
    error = body_of(clash)["error"]
    assert (error["code"], error["mof_code"]) == ("TRACK_RANGE_OVERLAP", "E0113")


def test_an_overlap_with_ones_own_range_is_e0612(client, staff_headers, new_merchant):
    merchant = new_merchant()
    track, begin = _track(), _begin(10)
    assert _allocate(client, staff_headers, merchant.ubn, track, begin, 4).status_code == 201
    clash = _allocate(client, staff_headers, merchant.ubn, track, begin + 150, 4)
    assert clash.status_code == 409
    error = body_of(clash)["error"]
    assert (error["code"], error["mof_code"]) == ("TRACK_RANGE_OVERLAP", "E0612")
