"""`make run`'s demo merchant has a finished previous period: filing, payment and the return PDF
work at once, and seeding again adds nothing."""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime

from chalicelib.adapters.dynamo_invoices import DynamoInvoices
from chalicelib.domain.period import TAIWAN_TZ, Period
from infra.seed import DEMO_UBN, seed_demo
from tests.api.conftest import body_of, post_json
from tests.unit.documents.test_pdf import pdf_tools, text_of_plain  # noqa: F401 - pdf_tools checks poppler


def _counts(period: str) -> tuple[int, int]:
    totals = DynamoInvoices().totals(DEMO_UBN, period, "07") or {}
    return int(totals.get("invoice_count") or 0), int(totals.get("allowance_count") or 0)


def test_the_demo_merchant_can_file_and_pay_the_seeded_previous_period(client, local_aws, tmp_path, pdf_tools):  # noqa: F811
    lines = list(seed_demo(local_aws, tmp_path))
    previous = Period.from_date(datetime.now(TAIWAN_TZ).date()).previous()
    assert _counts(previous.code) == (3, 1)
    again = list(seed_demo(local_aws, tmp_path))
    assert _counts(previous.code) == (3, 1)  # a second `make run` adds nothing
    assert len(again) == len(lines)

    password = (tmp_path / "demo-merchant-password").read_text().strip()
    login = post_json(client, "/v1/auth/login", {"ubn": DEMO_UBN, "password": password})
    assert login.status_code == 200, login.body
    headers = {"Authorization": f"Bearer {body_of(login)['access_token']}"}

    filed = post_json(client, f"/v1/filings/{previous.code}/submit", {}, headers)
    assert filed.status_code == 201, filed.body
    view = body_of(filed)
    # By hand (5%; einvoice-domain §7: B2C sales are tax-inclusive, the period's sum ÷ 1.05 rounded):
    # B2C 130 + 450 = 580 → 552 + 28; B2B 12,600 → 12,000 + 600; the allowance of 1,050 takes back
    # 1,000 + 50; the purchase of 8,400 brings 8,000 + 400 of input tax.
    # Output tax 28 + 600 − 50 = 578, less input tax 400: 178 payable.
    assert view["filing"]["payable"] == 178

    paid = post_json(
        client,
        f"/v1/filings/{previous.code}/payment",
        {"amount": 178, "paid_on": datetime.now(TAIWAN_TZ).date().isoformat(), "reference": "DEMO-178"},
        headers,
    )
    assert paid.status_code in (200, 201), paid.body

    link = client.http.get(f"/v1/filings/{previous.code}/versions/1/pdf", headers=headers)
    assert link.status_code == 302, link.body
    with urllib.request.urlopen(link.headers["Location"], timeout=10) as response:  # noqa: S310 - moto on loopback
        text = text_of_plain(response.read(), tmp_path)
    assert "示範商行" in text and "178" in text
    json_link = client.http.get(f"/v1/filings/{previous.code}/versions/1/json", headers=headers)
    with urllib.request.urlopen(json_link.headers["Location"], timeout=10) as response:  # noqa: S310
        document = json.loads(response.read())
    assert document["counts"]["invoices"] == 3 and document["counts"]["received_invoices"] == 1
    assert (document["fields"]["21"], document["fields"]["22"]) == (11_552, 578)
    assert (document["fields"]["101"], document["fields"]["107"], document["fields"]["111"]) == (578, 400, 178)
