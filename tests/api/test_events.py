"""Events (issue 16): every committed change reports itself once, with the object as the API shows it,
and a change that was refused reports nothing. Read here from the event store the webhooks and the
inbox are fed from; tests/api/test_webhooks.py follows them out to a receiver."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from chalicelib.adapters.dynamo import dynamodb, from_item, to_item
from chalicelib.adapters.dynamo_announcements import DynamoAnnouncementFanOut, DynamoAnnouncements
from chalicelib.adapters.dynamo_directory import merchant_page
from chalicelib.adapters.dynamo_events import DynamoEvents
from chalicelib.adapters.dynamo_invoices import invoices_table, owner
from chalicelib.api import deps
from chalicelib.api.outbox_events import processor
from chalicelib.domain.events import event_id
from chalicelib.domain.period import Period
from chalicelib.services.announcement_events import AnnouncementEvents
from tests.api.conftest import body_of, post_json
from tests.api.test_filings import _at, _move_to, _verified
from tests.api.test_invoice_lifecycle import _deliver, _issue, _mailbox, merchant  # noqa: F401 - fixture
from tests.api.test_invoices import B2B, B2C_CARRIER, issuer  # noqa: F401 - the fixture is shared


def _events(ubn: str) -> list[dict]:
    items, _ = DynamoEvents().recent(ubn, limit=100)
    return items


def _types(ubn: str) -> list[str]:
    return sorted(str(e["type"]) for e in _events(ubn))


def _notices(client, who) -> list[str]:
    """The kinds in the merchant's inbox, newest first."""
    return [n["kind"] for n in body_of(client.http.get("/v1/notifications", headers=who.headers))["items"]]


def _object(item: dict) -> dict:
    return json.loads(item["body"])["data"]["object"]


def _process_outbox(ubn: str) -> None:
    """The merchant's pending outbox items, processed now (what the wake-up or the sweeper does)."""
    pending = dynamodb().query(
        TableName=invoices_table(),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :outbox)",
        ExpressionAttributeValues=to_item({":pk": owner(ubn), ":outbox": "OUTBOX#"}),
    )["Items"]
    worker = processor()
    for item in map(from_item, pending):
        if item.get("status") != "done":
            worker.process(ubn, str(item["invoice_number"]), str(item["event"]))


def test_an_issued_invoice_reports_invoice_issued_once_with_the_invoice(client, merchant):  # noqa: F811
    invoice = _issue(client, merchant, _mailbox())
    number = invoice["invoice_number"]
    assert _events(merchant.ubn) == []  # nothing before the outbox ran: the event is the outbox's
    _deliver(client, merchant.ubn, number, "issued")
    _deliver(client, merchant.ubn, number, "issued")  # the stream delivers at least once
    events = _events(merchant.ubn)
    assert [e["type"] for e in events] == ["invoice.issued"]
    envelope = json.loads(events[0]["body"])
    assert envelope["id"].startswith("evt_") and envelope["type"] == "invoice.issued"
    assert envelope["merchant"] == merchant.ubn
    assert envelope["created"].endswith("+08:00")
    shown = body_of(client.http.get(f"/v1/invoices/{number}", headers=merchant.headers))
    sent = envelope["data"]["object"]
    assert sent["invoice_number"] == number
    assert sent["random_number"] == shown["random_number"]
    assert sent["amounts"] == shown["amounts"]
    assert sent["links"]["self"] == f"/v1/invoices/{number}"
    assert events[0]["published"] is True


def test_a_refused_cancel_reports_nothing_and_a_cancel_reports_once(client, merchant):  # noqa: F811
    invoice = _issue(client, merchant, _mailbox())
    number = invoice["invoice_number"]
    _deliver(client, merchant.ubn, number, "issued")
    cancelled = post_json(client, f"/v1/invoices/{number}/cancel", {"reason": "退貨"}, merchant.headers)
    assert cancelled.status_code == 200, cancelled.body
    twice = post_json(client, f"/v1/invoices/{number}/cancel", {"reason": "退貨"}, merchant.headers)
    assert twice.status_code == 409  # refused: its transaction wrote nothing, so no event either
    _process_outbox(merchant.ubn)
    _deliver(client, merchant.ubn, number, "cancelled")
    assert _types(merchant.ubn) == ["invoice.cancelled", "invoice.issued"]
    cancel = next(e for e in _events(merchant.ubn) if e["type"] == "invoice.cancelled")
    assert _object(cancel)["status"] == "cancelled"


def test_a_void_reports_the_void_and_the_reissue_each_time(client, merchant):  # noqa: F811
    invoice = _issue(client, merchant, _mailbox())
    number = invoice["invoice_number"]
    for carrier in ("/XYZ+789", "/XYZ+790"):
        response = post_json(
            client,
            f"/v1/invoices/{number}/void",
            {"reason": "載具錯誤", "replacement": {"carrier": {"type": "3J0002", "id": carrier}}},
            merchant.headers,
        )
        assert response.status_code == 200, response.body
        _deliver(client, merchant.ubn, number, "voided")
    # Two voids of one invoice are two changes: two pairs of events, the second with its own carrier.
    assert _types(merchant.ubn) == ["invoice.reissued", "invoice.reissued", "invoice.voided", "invoice.voided"]
    carriers = {_object(e)["carrier"]["id"] for e in _events(merchant.ubn) if e["type"] == "invoice.reissued"}
    assert carriers == {"/XYZ+789", "/XYZ+790"}


def test_an_allowance_reports_allowance_issued(client, merchant):  # noqa: F811
    issued = post_json(client, "/v1/invoices", B2B, merchant.headers)
    assert issued.status_code == 201, issued.body
    number = body_of(issued)["invoice_number"]
    line = {
        "original_invoice_number": number,
        "description": "折讓",
        "quantity": "1",
        "unit_price": "100",
        "tax_type": "1",
    }
    response = post_json(client, "/v1/allowances", {"items": [line]}, merchant.headers)
    assert response.status_code == 201, response.body
    allowance = body_of(response)
    _process_outbox(merchant.ubn)
    found = [e for e in _events(merchant.ubn) if e["type"] == "allowance.issued"]
    assert len(found) == 1
    assert _object(found[0])["allowance_number"] == allowance["allowance_number"]


def test_a_paid_pending_invoice_reports_pending_invoice_issued(client, issuer):  # noqa: F811
    held = post_json(client, "/v1/pending-invoices", {"order_id": "SO-EV-1", "invoice": B2C_CARRIER}, issuer.headers)
    assert held.status_code == 201, held.body
    pending_id = body_of(held)["pending_id"]
    triggered = post_json(client, f"/v1/pending-invoices/{pending_id}/trigger", {}, issuer.headers)
    assert triggered.status_code == 201, triggered.body
    _process_outbox(issuer.ubn)
    assert _types(issuer.ubn) == ["invoice.issued", "pending_invoice.issued"]
    paid = next(e for e in _events(issuer.ubn) if e["type"] == "pending_invoice.issued")
    assert _object(paid)["pending_id"] == pending_id
    assert _object(paid)["invoice"]["invoice_number"] == body_of(triggered)["invoice_number"]
    assert _notices(client, issuer) == ["payment_recorded"]


def test_a_submitted_return_and_a_closed_period_report_themselves(client, staff_headers, new_merchant, monkeypatch):
    period = Period(secrets.randbelow(90) + 10, 2 * (secrets.randbelow(6) + 1))
    waiting = _verified(client, new_merchant, f"wait-{secrets.token_hex(4)}@example.com", since=period)
    filer = _verified(client, new_merchant, f"file-{secrets.token_hex(4)}@example.com", since=period)
    _move_to(monkeypatch, _at(period.next().first_day + timedelta(days=3)))
    filed = post_json(client, f"/v1/filings/{period.code}/submit", {}, filer.headers)
    assert filed.status_code == 201, filed.body
    _process_outbox(filer.ubn)
    submitted = [e for e in _events(filer.ubn) if e["type"] == "filing.submitted"]
    assert len(submitted) == 1
    assert _object(submitted[0])["period"] == period.code and _object(submitted[0])["version"] == 1

    response = post_json(client, "/v1/admin/jobs/close", {"period": period.code}, staff_headers)
    while response.status_code == 202:
        response = post_json(client, "/v1/admin/jobs/close", {"period": period.code}, staff_headers)
    assert response.status_code == 200, response.body
    ready = [e for e in _events(waiting.ubn) if e["type"] == "filing.ready"]
    assert len(ready) == 1 and _object(ready[0])["period"] == period.code
    # The one who filed first is told nothing is "ready": its return is in.
    assert [e for e in _events(filer.ubn) if e["type"] == "filing.ready"] == []
    assert _notices(client, waiting) == ["period_closed"]
    assert _notices(client, filer) == []


def _bounce(ubn: str, number: str, to: str, *, kind: str = "Permanent", feedback: str | None = None) -> str:
    """An SES bounce notification as SNS carries it (SES Developer Guide, notification contents)."""
    return json.dumps(
        {
            "notificationType": "Bounce",
            "bounce": {
                "bounceType": kind,
                "bounceSubType": "General" if kind == "Permanent" else "MailboxFull",
                "bouncedRecipients": [
                    {
                        "emailAddress": to,
                        "action": "failed",
                        "status": "5.1.1",
                        "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                    }
                ],
                "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "feedbackId": feedback or f"0100-{secrets.token_hex(8)}",
            },
            "mail": {
                "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "source": "invoices@example.com",
                "messageId": secrets.token_hex(8),
                "destination": [to],
                "headersTruncated": False,
                "headers": [
                    {"name": "To", "value": to},
                    {"name": "X-Einvoice-Invoice", "value": f"{ubn}/{number}"},
                ],
            },
        }
    )


def _feedback(client, message: str) -> None:
    event = client.events.generate_sns_event(message=message, subject="Amazon SES Email Event Notification")
    client.lambda_.invoke("handle_mail_feedback", event)


def test_an_invoice_mail_carries_its_reference_for_bounces(client, local_aws, merchant):  # noqa: F811
    from tests.api.test_invoice_lifecycle import _moto_mails

    to = _mailbox()
    number = _issue(client, merchant, to)["invoice_number"]
    _deliver(client, merchant.ubn, number, "issued")
    (mail,) = _moto_mails(local_aws, to)
    assert mail["X-Einvoice-Invoice"] == f"{merchant.ubn}/{number}"


def test_a_permanent_bounce_marks_the_invoice_and_reports_delivery_failed_once(client, merchant):  # noqa: F811
    to = _mailbox()
    number = _issue(client, merchant, to)["invoice_number"]
    _deliver(client, merchant.ubn, number, "issued")
    message = _bounce(merchant.ubn, number, to, feedback="0100-same-feedback")
    _feedback(client, message)
    _feedback(client, message)  # SNS delivers at least once
    _feedback(client, _bounce(merchant.ubn, number, to, kind="Transient"))  # SES retries those itself
    _process_outbox(merchant.ubn)
    failed = [e for e in _events(merchant.ubn) if e["type"] == "delivery.failed"]
    assert len(failed) == 1
    sent = _object(failed[0])
    assert sent["invoice_number"] == number and sent["recipients"] == [to]
    assert "550" in sent["reason"]
    detail = body_of(client.http.get(f"/v1/invoices/{number}", headers=merchant.headers))
    assert [h["event"] for h in detail["history"]].count("email_bounced") == 1
    assert _notices(client, merchant) == ["delivery_failed"]


def test_a_bounce_for_mail_never_sent_changes_nothing(client, merchant):  # noqa: F811
    number = _issue(client, merchant, _mailbox())["invoice_number"]  # the outbox has not mailed it yet
    _feedback(client, _bounce(merchant.ubn, number, "someone@example.com"))
    _feedback(client, "not json at all")
    _process_outbox(merchant.ubn)
    assert [e for e in _events(merchant.ubn) if e["type"] == "delivery.failed"] == []
    detail = body_of(client.http.get(f"/v1/invoices/{number}", headers=merchant.headers))
    assert "email_bounced" not in [h["event"] for h in detail["history"]]


def test_a_published_announcement_reaches_its_audience_once(client, staff_headers, new_merchant):
    told, other = new_merchant(), new_merchant()
    published = datetime.now(UTC) - timedelta(minutes=1)
    response = post_json(
        client,
        "/v1/admin/announcements",
        {
            "kind": "policy",
            "title_zh": "稅務新知",
            "title_en": "Tax news",
            "body_zh": "內容",
            "body_en": "Body",
            "publish_at": published.isoformat(),
            "audience": [told.ubn],
        },
        staff_headers,
    )
    assert response.status_code == 201, response.body
    announcement = body_of(response)
    # Only this test's announcement: other tests' ones for everyone would walk every merchant here.
    store = DynamoAnnouncements()
    only = SimpleNamespace(all=lambda: [a for a in store.all() if a.id == announcement["id"]])
    jobs = AnnouncementEvents(
        announcements=only,
        state=DynamoAnnouncementFanOut(),
        merchant_pages=merchant_page,
        events=deps.event_publisher(),
        clock=deps.clock,
    )
    jobs.run()
    jobs.run()
    found = [e for e in _events(told.ubn) if e["type"] == "announcement.published"]
    assert len(found) == 1
    assert _object(found[0])["id"] == announcement["id"]
    assert _object(found[0])["title_en"] == "Tax news"
    assert [e for e in _events(other.ubn) if e["type"] == "announcement.published"] == []
    assert _notices(client, told) == ["announcement"] and _notices(client, other) == []


def test_the_same_change_always_gets_the_same_event_id():
    assert event_id("12345675", "invoice:AB00000001:issued:t") == event_id("12345675", "invoice:AB00000001:issued:t")
    assert event_id("12345675", "invoice:AB00000001:issued:t") != event_id("12345676", "invoice:AB00000001:issued:t")
