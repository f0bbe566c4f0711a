"""The local mail view (/local/outbox) reads like a mail reader: decoded text, each recipient once.
And the defaults behind two of the mails it shows: the re-issue subject and the low-stock notice."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from chalicelib.adapters.delivery import SesRawMail
from chalicelib.adapters.dynamo_invoices import DynamoInvoices
from chalicelib.domain.merchant import MerchantSettings
from chalicelib.services.invoice_documents import mail_message
from tests.api.conftest import body_of, outbox, post_json
from tests.api.test_invoice_lifecycle import _deliver, _issue, merchant  # noqa: F401 - the fixture is shared
from tests.api.test_invoices import B2C_CARRIER, issuer  # noqa: F401 - the fixture is shared


def _mailbox() -> str:
    return f"reader-{secrets.token_hex(6)}@example.com"


def _mails_to(client, address: str) -> list[dict]:
    return [m for m in outbox(client)["emails"] if address in m["to"]]


def test_a_chinese_mail_reads_as_written_and_names_its_recipient_once(client):
    to = _mailbox()
    subject = "示範商行 電子發票開立通知 AB-12345678 / E-invoice AB-12345678 issued"
    # Short lines: the mail goes out 8bit, the encoding that used to come back as literal \uXXXX.
    raw = mail_message(
        subject,
        seller="示範商行",
        to=to,
        sender="noreply@einvoice.local",
        sent_at=datetime.now(UTC),
        reply_to=None,
        text="您好：\n發票號碼：AB-12345678\n",
    ).as_bytes()
    SesRawMail().send(to, raw)

    [mail] = _mails_to(client, to)

    assert mail["to"] == [to]
    assert mail["subject"] == subject
    assert "您好：" in mail["body"] and "發票號碼：AB-12345678" in mail["body"]
    assert "\\u" not in mail["body"] and "=?utf-8?" not in mail["subject"].lower()


def test_the_reissue_mail_shows_the_invoice_number_in_its_subject(client, merchant):  # noqa: F811
    to = _mailbox()
    invoice = _issue(client, merchant, to)
    number = invoice["invoice_number"]
    response = post_json(
        client,
        f"/v1/invoices/{number}/void",
        {"reason": "載具錯誤", "replacement": {"carrier": {"type": "3J0002", "id": "/XYZ+789"}}},
        merchant.headers,
    )
    assert response.status_code == 200, response.body
    _deliver(client, merchant.ubn, number, "voided")

    [mail] = _mails_to(client, to)

    shown = f"{number[:2]}-{number[2:]}"
    assert "電子發票更正重開通知" in mail["subject"]
    assert f"{shown} / E-invoice {shown} re-issued" in mail["subject"]
    assert mail["to"] == [to]


def test_the_first_invoice_of_a_one_booklet_channel_does_not_warn_of_low_stock(client, issuer):  # noqa: F811
    # A channel's smallest assignment is one booklet (本) of 50 numbers (issuer's pos:till-1); the
    # merchant has not chosen a threshold, so the default applies.
    response = post_json(client, "/v1/invoices", {**B2C_CARRIER, "channel": "pos:till-1"}, issuer.key_headers)
    assert response.status_code == 201, response.body
    number = body_of(response)["invoice_number"]

    assert DynamoInvoices().outbox(issuer.ubn, number, "low_stock") is None


def test_the_default_threshold_warns_before_a_single_booklet_runs_out():
    threshold = MerchantSettings().low_stock_threshold
    # One booklet holds 50 numbers: a warning at 49 left would come with its first invoice.
    assert 0 < threshold < 49
