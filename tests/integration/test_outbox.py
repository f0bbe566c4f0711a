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
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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
from chalicelib.adapters.dynamo_outbox_stream import wake_ups
from chalicelib.adapters.s3_artifacts import S3Artifacts
from chalicelib.api.outbox_events import handle_stream_records, processor
from chalicelib.domain.artifacts import ArtifactKind
from chalicelib.domain.ubn import is_valid_ubn
from chalicelib.services.outbox import Outcome
from chalicelib.settings import get_settings
from infra.local import free_port
from infra.stream_worker import StreamReader, StreamWorker
from tests.outbox_stream import stream_record
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
    # The stream delivers a record again (a retried batch): the item as it was first written.
    item = DynamoInvoices().outbox(ubn, number, "issued") or {}
    assert handle_stream_records([stream_record({**item, "status": "pending"})]) == [Outcome.ALREADY_DONE.value]

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


def test_a_failing_item_never_fails_the_stream_batch_and_stays_for_the_sweeper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ubn = _merchant()
    broken, _ = _issue(ubn, "b2c", created=LONG_AGO)
    fine, buyer = _issue(ubn, "b2c")
    s3_endpoint = os.environ["AWS_ENDPOINT_URL_S3"]
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    records = [stream_record(DynamoInvoices().outbox(ubn, broken, "issued") or {})]

    assert handle_stream_records(records) == ["failed"]  # no exception: the shard is never held

    item = DynamoInvoices().outbox(ubn, broken, "issued") or {}
    assert (item["attempts"], item["gsi1pk"]) == (1, OUTBOX_PENDING)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
    records = [stream_record(DynamoInvoices().outbox(ubn, fine, "issued") or {})]
    assert handle_stream_records(records) == ["done"]
    assert len(_mails_to(buyer["email"])) == 1
    processor().sweep()
    assert (DynamoInvoices().outbox(ubn, broken, "issued") or {})["status"] == "done"


# --- the stream path, as Lambda's event source mapping and `make run` run it ------------------------


def _read_until(reader: StreamReader, wanted: int, attempts: int = 40) -> list[dict[str, Any]]:
    """Records from the stream until ``wanted`` outbox wake-ups are among them (the stream is
    eventually consistent: a record may show up a read or two after its write)."""
    records: list[dict[str, Any]] = []
    for _ in range(attempts):
        records += reader.read()
        if len(wake_ups(records)) >= wanted:
            break
    return records


def _stream_reader() -> StreamReader:
    settings = get_settings()
    return StreamReader(settings.invoices_table, endpoint=settings.dynamodb_endpoint, region=settings.region)


def test_dynamodb_locals_stream_carries_each_new_outbox_item_once_and_not_the_processors_updates() -> None:
    reader = _stream_reader()
    ubn = _merchant()
    number, buyer = _issue(ubn, "b2c")

    records = _read_until(reader, 1)
    # The invoice item and the outbox item were both written; only the outbox item is work.
    mine = [w for w in wake_ups(records) if w.ubn == ubn]
    assert [(w.number, w.event) for w in mine] == [(number, "issued")]
    # The real record and the tests' stand-in (tests/outbox_stream.py) have the same shape (Lambda
    # adds eventSourceARN to what GetRecords returns).
    real = next(r for r in records if r["dynamodb"]["Keys"]["sk"]["S"] == outbox_sort_key(number, "issued"))
    stand_in = stream_record(DynamoInvoices().outbox(ubn, number, "issued") or {})
    assert set(stand_in) - {"eventSourceARN"} <= set(real)
    assert set(stand_in["dynamodb"]) == set(real["dynamodb"]) - {"OldImage"}
    assert handle_stream_records([real]) == ["done"]
    assert len(_mails_to(buyer["email"])) == 1

    # Processing moved every step and finished the item: changes, none of them new work.
    after = _read_until(reader, 1, attempts=5)
    moved = [r for r in after if r["dynamodb"]["Keys"]["sk"]["S"] == outbox_sort_key(number, "issued")]
    assert moved and {r["eventName"] for r in moved} == {"MODIFY"}
    assert [w for w in wake_ups(after) if w.ubn == ubn] == []


def test_a_put_over_a_finished_item_is_new_work() -> None:
    reader = _stream_reader()
    ubn = _merchant()
    number, _ = _issue(ubn, "b2c")
    assert processor().process(ubn, number, "issued") is Outcome.DONE
    _read_until(reader, 1)
    item = DynamoInvoices().outbox(ubn, number, "issued") or {}
    again = {**item, "status": "pending", "created_at": datetime.now(UTC).isoformat(), "gsi1pk": OUTBOX_PENDING}
    again["gsi1sk"] = f"{again['created_at']}#{ubn}#{number}"
    again["steps"] = dict.fromkeys(item["steps"], "pending")
    dynamodb().put_item(TableName=invoices_table(), Item=to_item(again))

    records = _read_until(reader, 1)
    assert [(w.ubn, w.number) for w in wake_ups(records) if w.ubn == ubn] == [(ubn, number)]
    assert processor().process(ubn, number, "issued") is Outcome.DONE


def test_make_runs_worker_reads_the_stream_and_processes_what_is_issued() -> None:
    # No sweep: what other tests left pending would keep it busy; this is the stream's path alone.
    worker = StreamWorker(sweep_every_s=3600, sweep_at_start=False).start()
    try:
        ubn = _merchant()
        number, buyer = _issue(ubn, "b2c")
        for _ in range(300):
            item = DynamoInvoices().outbox(ubn, number, "issued") or {}
            if item.get("status") == "done":
                break
            time.sleep(0.1)
    finally:
        worker.stop()
    assert item["status"] == "done"
    assert len(_mails_to(buyer["email"])) == 1


def test_records_that_are_not_outbox_work_wake_nothing() -> None:
    invoice = {"pk": "MERCHANT#24634102", "sk": "INV#AB00000001", "status": "pending"}
    outbox = {
        "pk": "MERCHANT#24634102",
        "sk": "OUTBOX#AB00000001#issued",
        "ubn": "24634102",
        "invoice_number": "AB00000001",
        "event": "issued",
        "created_at": "2026-12-08T10:00:00+08:00",
        "status": "pending",
    }
    step_moved = stream_record(outbox, event_name="MODIFY", old=outbox)
    finished = stream_record({**outbox, "status": "done"}, event_name="MODIFY", old=outbox)
    removed = stream_record(outbox, event_name="REMOVE")
    assert handle_stream_records([stream_record(invoice), step_moved, finished, removed, {}, {"dynamodb": 1}]) == []
