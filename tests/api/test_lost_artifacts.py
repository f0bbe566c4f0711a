"""A PDF or XML the bucket lost (a `make run` restart, a restored bucket) is rebuilt from its record:
downloads still work, a resend still mails, and the local stack keeps its bucket across a restart."""

from __future__ import annotations

import json
import secrets
import urllib.request
from datetime import timedelta

from chalicelib.adapters.aws import client as aws_client
from chalicelib.adapters.s3_artifacts import artifact_key
from chalicelib.adapters.s3_filings import filing_key
from chalicelib.domain.artifacts import ArtifactKind
from chalicelib.settings import get_settings
from infra.local import ARTIFACTS, LocalStack, _client
from tests.api.conftest import body_of, post_json
from tests.api.test_allowances import _allow, _invoice, _line
from tests.api.test_allowances import _deliver as _deliver_allowance
from tests.api.test_filings import _at, _current, _move_to
from tests.api.test_invoice_lifecycle import _deliver, _issue, _mailbox, _moto_mails, merchant  # noqa: F401
from tests.api.test_invoices import B2B, issuer  # noqa: F401 - the fixture is shared


def _lose(key: str) -> None:
    """The object is gone, as after a restart of the in-memory S3 (every version of it)."""
    s3 = aws_client("s3")
    bucket = get_settings().artifacts_bucket
    for version in s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", []):
        s3.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix=key)


def _followed(response) -> bytes:
    assert response.status_code == 302, response.body
    with urllib.request.urlopen(response.headers["Location"], timeout=10) as linked:  # noqa: S310 - moto on loopback
        return linked.read()


def test_a_lost_invoice_pdf_is_rebuilt_when_downloaded(client, merchant):  # noqa: F811
    invoice = _issue(client, merchant, _mailbox())
    number = invoice["invoice_number"]
    _deliver(client, merchant.ubn, number, "issued")  # the outbox stores the proof and marks it stored
    _lose(artifact_key(merchant.ubn, invoice["period"], number, ArtifactKind.PROOF_PDF))

    pdf = _followed(client.http.get(f"/v1/invoices/{number}/pdf", headers=merchant.headers))

    assert pdf.startswith(b"%PDF")
    again = _followed(client.http.get(f"/v1/invoices/{number}/pdf", headers=merchant.headers))
    assert again.startswith(b"%PDF")  # stored again: the second download finds it


def test_a_resend_of_an_invoice_whose_pdf_was_lost_mails_it_with_the_pdf(client, local_aws, merchant):  # noqa: F811
    invoice = _issue(client, merchant, _mailbox())
    number = invoice["invoice_number"]
    _deliver(client, merchant.ubn, number, "issued")
    _lose(artifact_key(merchant.ubn, invoice["period"], number, ArtifactKind.PROOF_PDF))
    to = _mailbox()

    accepted = post_json(
        client, f"/v1/invoices/{number}/notify", {"channels": ["email"], "email": to}, merchant.headers
    )
    assert accepted.status_code == 202, accepted.body
    _deliver(client, merchant.ubn, number, body_of(accepted)["event"])

    [mail] = _moto_mails(local_aws, to)
    [pdf] = [p for p in mail.walk() if p.get_content_type() == "application/pdf"]
    assert pdf.get_payload(decode=True).startswith(b"%PDF")


def test_a_lost_allowance_pdf_is_rebuilt_when_downloaded(client, issuer):  # noqa: F811
    number = _invoice(client, issuer)
    created = _allow(client, issuer, _line(number, "105"))
    assert created.status_code == 201, created.body
    allowance = body_of(created)
    _deliver_allowance(client, issuer.ubn, allowance["allowance_number"])
    key = artifact_key(issuer.ubn, allowance["period"], allowance["allowance_number"], ArtifactKind.ALLOWANCE_PDF)
    _lose(key)

    pdf = _followed(client.http.get(f"/v1/allowances/{allowance['allowance_number']}/pdf", headers=issuer.headers))

    assert pdf.startswith(b"%PDF")


def test_lost_return_documents_are_rebuilt_alike_when_downloaded(client, issuer, monkeypatch):  # noqa: F811
    period = _current()
    _invoice(client, issuer, B2B)
    _move_to(monkeypatch, _at(period.next().first_day + timedelta(days=1)))
    filed = post_json(client, f"/v1/filings/{period.code}/submit", {}, issuer.headers)
    assert filed.status_code == 201, filed.body
    json_path = f"/v1/filings/{period.code}/versions/1/json"
    original = json.loads(_followed(client.http.get(json_path, headers=issuer.headers)))
    for name in ("return.json", "return.pdf"):
        _lose(filing_key(issuer.ubn, period.code, "v001", name))

    rebuilt = json.loads(_followed(client.http.get(json_path, headers=issuer.headers)))
    pdf = _followed(client.http.get(f"/v1/filings/{period.code}/versions/1/pdf", headers=issuer.headers))

    assert rebuilt == original
    assert pdf.startswith(b"%PDF")


def test_the_local_stack_keeps_its_bucket_across_a_restart(tmp_path):
    data = tmp_path / "dynamodb"
    saved = tmp_path / "s3"
    key = f"merchants/12345675/invoices/11502/AB{secrets.randbelow(10**8):08d}/proof.pdf"
    body = b"%PDF-1.4 kept across the restart"

    first = LocalStack(data_dir=data, s3_dir=saved).start()
    try:
        first.create_resources()
        s3 = _client("s3", first.moto.endpoint)
        s3.put_object(Bucket=ARTIFACTS.name("local"), Key=key, Body=body, ContentType="application/pdf")
    finally:
        first.stop()

    second = LocalStack(data_dir=data, s3_dir=saved).start()
    try:
        second.create_resources()
        got = _client("s3", second.moto.endpoint).get_object(Bucket=ARTIFACTS.name("local"), Key=key)
        assert got["Body"].read() == body
        assert got["ContentType"] == "application/pdf"
    finally:
        second.stop()
