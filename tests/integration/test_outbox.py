"""The outbox processor against DynamoDB Local and moto: documents to S3, one mail, one SMS, retries.

Invoices and outbox items are written directly with the adapters' key shapes (what the issuing
transaction writes), so these tests do not depend on the issuing API.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import secrets
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from lxml import etree

from chalicelib.adapters.dynamo import dynamodb, to_item
from chalicelib.adapters.dynamo_invoices import (
    OUTBOX_PENDING,
    DynamoInvoices,
    invoice_item,
    invoices_table,
    outbox_sort_key,
    owner,
)
from chalicelib.adapters.s3_artifacts import S3Artifacts
from chalicelib.adapters.sqs_outbox import OutboxMessage, notify_outbox, queue_name
from chalicelib.api.outbox_events import OUTBOX_QUEUE_NAME, handle_message_body, processor
from chalicelib.domain.artifacts import ArtifactKind
from chalicelib.domain.ubn import is_valid_ubn
from chalicelib.services.outbox import Outcome
from chalicelib.settings import get_settings
from infra.local import free_port
from infra.resources import OUTBOX_QUEUE, stage_environment
from tests.unit.test_invoice_documents import make_record

ROOT = Path(__file__).resolve().parents[2]
# Items the sweeper must reach first, whatever other tests left pending: the index sorts by creation.
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


# --- arranging ------------------------------------------------------------------------------------


def _ubn() -> str:
    while True:
        stem = f"{secrets.randbelow(10**7):07d}"
        for last in "0123456789":
            if is_valid_ubn(stem + last):
                return stem + last


def _merchant(*, email_buyer: bool = True, sms_buyer: bool = True) -> str:
    ubn = _ubn()
    profile = {
        "pk": owner(ubn),
        "sk": "PROFILE",
        "ubn": ubn,
        "name": "好好商行股份有限公司",
        "address": "臺北市中正區重慶南路一段 2 號",
        "email": "shop@example.com",
        "status": "active",
        "settings": {"email_buyer": email_buyer, "sms_buyer": sms_buyer},
    }
    dynamodb().put_item(TableName=get_settings().merchants_table, Item=to_item(profile))
    return ubn


def _number() -> str:
    return f"AB{secrets.randbelow(10**8):08d}"


def _issue(ubn: str, kind: str = "b2c", *, created: datetime | None = None, **buyer: Any) -> tuple[str, dict[str, Any]]:
    """Write an invoice and its outbox item as the issuing transaction does; returns (number, buyer)."""
    number = _number()
    record = make_record(kind, number)
    contact = {"email": f"buyer-{secrets.token_hex(4)}@example.com", "mobile": f"+8869{secrets.randbelow(10**8):08d}"}
    if kind != "b2c":
        contact.pop("mobile")
    record = record.model_copy(
        update={"seller": {**record.seller, "ubn": ubn}, "buyer": {**record.buyer, **contact, **buyer}}
    )
    created_at = (created or datetime.now(UTC)).isoformat()
    table = invoices_table()
    dynamodb().put_item(TableName=table, Item=to_item(invoice_item(record, ubn)))
    steps = {
        "xml": "pending",
        "proof_pdf": "pending",
        "a4_pdf": "pending",
        "email": "pending" if record.buyer.get("email") else "skipped",
        "sms": "pending" if record.buyer.get("mobile") else "skipped",
    }
    outbox = {
        "pk": owner(ubn),
        "sk": outbox_sort_key(number, "issued"),
        "ubn": ubn,
        "invoice_number": number,
        "event": "issued",
        "created_at": created_at,
        "steps": steps,
        "attempts": 0,
        "status": "pending",
        "gsi1pk": OUTBOX_PENDING,
        "gsi1sk": f"{created_at}#{ubn}#{number}",
    }
    dynamodb().put_item(TableName=table, Item=to_item(outbox))
    return number, record.buyer


def _set_step(ubn: str, number: str, step: str, value: str) -> None:
    dynamodb().update_item(
        TableName=invoices_table(),
        Key={"pk": {"S": owner(ubn)}, "sk": {"S": outbox_sort_key(number, "issued")}},
        UpdateExpression="SET steps.#s = :v",
        ExpressionAttributeNames={"#s": step},
        ExpressionAttributeValues={":v": {"S": value}},
    )


# --- what moto saw --------------------------------------------------------------------------------


def _moto_state() -> dict[str, Any]:
    with urllib.request.urlopen(f"{os.environ['AWS_ENDPOINT_URL_SES']}/moto-api/data.json", timeout=5) as response:  # noqa: S310
        state: dict[str, Any] = json.loads(response.read())
    return state


def _mails_to(address: str) -> list[email.message.EmailMessage]:
    raw = [m for m in _moto_state().get("ses", {}).get("RawMessage", []) if address in (m.get("destinations") or [])]
    return [email.message_from_string(m["raw_data"], policy=email.policy.default) for m in raw]


def _texts_to(phone: str) -> list[str]:
    return [m["message"] for m in _moto_state().get("sns", {}).get("SMS", []) if m.get("phone_number") == phone]


def _pdf_attachments(message: email.message.EmailMessage) -> dict[str, bytes]:
    return {str(a.get_filename()): a.get_content() for a in message.iter_attachments()}


# --- the happy path -------------------------------------------------------------------------------


def test_b2c_invoice_gets_xml_and_pdfs_in_s3_one_mail_and_one_sms() -> None:
    ubn = _merchant()
    number, buyer = _issue(ubn, "b2c")

    assert processor().process(ubn, number, "issued") is Outcome.DONE

    s3 = S3Artifacts()
    xml = s3.get(ubn, "11312", number, ArtifactKind.XML)
    root = etree.fromstring(xml)
    assert root.tag == "{urn:GEINV:eInvoiceMessage:F0401:4.1}Invoice"
    assert root.findtext("{*}Main/{*}InvoiceNumber") == number
    assert s3.get(ubn, "11312", number, ArtifactKind.PROOF_PDF).startswith(b"%PDF")
    assert s3.get(ubn, "11312", number, ArtifactKind.A4_PDF).startswith(b"%PDF")

    invoice = DynamoInvoices().get_raw(ubn, number)
    assert invoice is not None
    prefix = f"merchants/{ubn}/invoices/11312/{number}/"
    assert set(invoice["artifacts"]) == {"xml", "proof_pdf", "a4_pdf"}
    assert all(key.startswith(prefix) for key in invoice["artifacts"].values())
    assert invoice["delivery"]["email"]["status"] == "sent"
    assert invoice["delivery"]["email"]["to"] == buyer["email"]
    assert invoice["delivery"]["sms"]["status"] == "sent"

    mails = _mails_to(buyer["email"])
    assert len(mails) == 1
    assert number[2:] in str(mails[0]["Subject"])
    attachments = _pdf_attachments(mails[0])
    assert list(attachments) == [f"{number}-proof.pdf"]  # B2C: the proof
    assert attachments[f"{number}-proof.pdf"].startswith(b"%PDF")
    texts = _texts_to(buyer["mobile"])
    assert len(texts) == 1
    assert f"{number[:2]}-{number[2:]}" in texts[0]

    item = DynamoInvoices().outbox(ubn, number, "issued")
    assert item is not None
    assert item["status"] == "done"
    assert "gsi1pk" not in item and "gsi1sk" not in item
    assert set(item["steps"].values()) == {"done"}


def test_processing_again_sends_nothing_new() -> None:
    ubn = _merchant()
    number, buyer = _issue(ubn, "b2c")
    assert processor().process(ubn, number, "issued") is Outcome.DONE

    assert processor().process(ubn, number, "issued") is Outcome.ALREADY_DONE
    handle_message_body(OutboxMessage(ubn, number, "issued").to_body())

    assert len(_mails_to(buyer["email"])) == 1
    assert len(_texts_to(buyer["mobile"])) == 1


def test_b2b_mail_carries_the_a4_and_skipped_sms_is_recorded() -> None:
    ubn = _merchant()
    number, buyer = _issue(ubn, "b2b")

    assert processor().process(ubn, number, "issued") is Outcome.DONE

    mails = _mails_to(buyer["email"])
    assert len(mails) == 1
    assert list(_pdf_attachments(mails[0])) == [f"{number}-a4.pdf"]
    invoice = DynamoInvoices().get_raw(ubn, number)
    assert invoice is not None
    assert invoice["delivery"]["sms"] == {"status": "skipped"}


def test_delivery_turned_off_after_issuing_is_skipped_not_sent() -> None:
    ubn = _merchant(email_buyer=False, sms_buyer=False)
    number, buyer = _issue(ubn, "b2c")  # the outbox still says pending: the settings changed since

    assert processor().process(ubn, number, "issued") is Outcome.DONE

    assert _mails_to(buyer["email"]) == []
    assert _texts_to(buyer["mobile"]) == []
    invoice = DynamoInvoices().get_raw(ubn, number)
    assert invoice is not None
    assert invoice["delivery"]["email"]["status"] == "skipped"
    assert invoice["delivery"]["sms"]["status"] == "skipped"
    assert set(invoice["artifacts"]) == {"xml", "proof_pdf", "a4_pdf"}


def test_a_live_send_lease_is_left_alone_and_an_expired_one_is_taken_over() -> None:
    ubn = _merchant(sms_buyer=False)
    number, buyer = _issue(ubn, "b2c")
    future = (datetime.now(UTC) + timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _set_step(ubn, number, "email", f"sending#{future}")

    # Another worker is sending (or died while sending less than 5 minutes ago): do not send too.
    assert processor().process(ubn, number, "issued") is Outcome.BUSY
    assert _mails_to(buyer["email"]) == []
    item = DynamoInvoices().outbox(ubn, number, "issued")
    assert item is not None
    assert item["gsi1pk"] == OUTBOX_PENDING
    assert item["steps"]["xml"] == "done"  # the documents before it were done meanwhile

    past = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _set_step(ubn, number, "email", f"sending#{past}")
    assert processor().process(ubn, number, "issued") is Outcome.DONE
    assert len(_mails_to(buyer["email"])) == 1


# --- faults ---------------------------------------------------------------------------------------


def test_s3_outage_delays_documents_and_mail_then_the_sweeper_finishes(monkeypatch: pytest.MonkeyPatch) -> None:
    ubn = _merchant()
    number, buyer = _issue(ubn, "b2c", created=LONG_AGO)
    s3_endpoint = os.environ["AWS_ENDPOINT_URL_S3"]
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{free_port()}")  # nothing listens there

    with pytest.raises(Exception):  # noqa: B017 - whatever botocore raises for a refused connection
        processor().process(ubn, number, "issued")

    assert DynamoInvoices().get(ubn, number) is not None  # the invoice is untouched
    item = DynamoInvoices().outbox(ubn, number, "issued")
    assert item is not None
    assert item["attempts"] == 1
    assert item["last_error"].startswith("xml: ")
    assert item["gsi1pk"] == OUTBOX_PENDING
    assert set(item["steps"].values()) == {"pending"}
    assert _mails_to(buyer["email"]) == []  # mail waits for its PDF

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
    report = processor().sweep()

    assert report["done"] >= 1
    item = DynamoInvoices().outbox(ubn, number, "issued")
    assert item is not None
    assert item["status"] == "done"
    assert "gsi1pk" not in item
    assert len(_mails_to(buyer["email"])) == 1
    assert len(_texts_to(buyer["mobile"])) == 1


def test_sweeper_leaves_young_items_to_their_message() -> None:
    ubn = _merchant()
    number, _ = _issue(ubn, "b2c", created=datetime.now(UTC) + timedelta(minutes=10))

    processor().sweep()

    item = DynamoInvoices().outbox(ubn, number, "issued")
    assert item is not None
    assert item["steps"]["xml"] == "pending"
    # Tidy up: the sweeps of later tests would otherwise process it.
    assert processor().process(ubn, number, "issued") is Outcome.DONE


def test_notify_outbox_swallows_an_sqs_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", f"http://127.0.0.1:{free_port()}")
    notify_outbox("24634102", "AB00000000", "issued")  # logs, never raises


# --- the queue path, as `make run` runs it ------------------------------------------------------------


def test_wake_up_goes_through_the_queue_to_the_processor() -> None:
    from infra.outbox_worker import OutboxWorker

    settings = get_settings()
    sqs = boto3.client("sqs", endpoint_url=settings.sqs_endpoint, region_name=settings.region)
    url = sqs.get_queue_url(QueueName=settings.outbox_queue)["QueueUrl"]
    sqs.purge_queue(QueueUrl=url)  # wake-ups other tests sent; their items are the sweeper's business
    ubn = _merchant()
    number, buyer = _issue(ubn, "b2c")

    notify_outbox(ubn, number, "issued")
    assert OutboxWorker.poll_once(sqs, url) == 1

    item = DynamoInvoices().outbox(ubn, number, "issued")
    assert item is not None
    assert item["status"] == "done"
    assert len(_mails_to(buyer["email"])) == 1
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"  # handled, so deleted


# --- one definition of the queue ------------------------------------------------------------------


def test_queue_is_created_with_its_dead_letter_queue_and_visibility_timeout() -> None:
    settings = get_settings()
    sqs = boto3.client("sqs", endpoint_url=settings.sqs_endpoint, region_name=settings.region)
    url = sqs.get_queue_url(QueueName=OUTBOX_QUEUE.name("local"))["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert int(attributes["VisibilityTimeout"]) == OUTBOX_QUEUE.visibility_timeout_s
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(OUTBOX_QUEUE.dead_letter_name("local"))


@pytest.mark.parametrize("stage", ["local", "dev", "prod"])
def test_queue_name_function_timeout_and_environment_agree(stage: str) -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    handler = config["lambda_functions"]["handle_outbox_message"]
    assert handler["lambda_timeout"] == OUTBOX_QUEUE.function_timeout_s
    assert OUTBOX_QUEUE.visibility_timeout_s >= handler["lambda_timeout"]
    assert queue_name(stage) == OUTBOX_QUEUE.name(stage)
    variables = config["stages"][stage]["environment_variables"]
    assert variables["OUTBOX_QUEUE"] == stage_environment(stage)["OUTBOX_QUEUE"] == OUTBOX_QUEUE.name(stage)
    assert queue_name(os.environ.get("STAGE") or "local") == OUTBOX_QUEUE_NAME


def test_a_malformed_message_is_dropped_not_retried() -> None:
    assert handle_message_body("not json") is Outcome.MISSING
    assert handle_message_body(json.dumps({"ubn": "24634102"})) is Outcome.MISSING
