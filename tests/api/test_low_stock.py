"""The low-stock notice (字軌號碼即將用罄): a committed invoice is answered 201 whatever the mail
service does; the notice goes out once, from the outbox, and only then is the counter marked."""

from __future__ import annotations

import json
import secrets
import threading
from datetime import datetime

import pytest

from chalicelib.adapters.dynamo_invoices import DynamoInvoices
from chalicelib.adapters.dynamo_tracks import DynamoTracks
from chalicelib.api.outbox_events import handle_stream_records, processor
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.services.outbox import Outcome
from infra.local import free_port
from tests.api.conftest import body_of, outbox, post_json
from tests.api.test_invoices import B2C_CARRIER, QR_KEY, Issuer, make_issuer
from tests.outbox_stream import stream_record

# make_issuer gives the online channel two booklets: 100 numbers. Below 100 after the first issue.
THRESHOLD = 100


def _low_on_stock(client, staff_headers, new_merchant, email: str) -> Issuer:
    issuer = make_issuer(client, staff_headers, new_merchant)
    patched = client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **issuer.headers},
        body=json.dumps({"email": email, "settings": {"qr_aes_key": QR_KEY, "low_stock_threshold": THRESHOLD}}),
    )
    assert patched.status_code == 200
    return issuer


def _issue(client, issuer: Issuer):
    return post_json(client, "/v1/invoices", B2C_CARRIER, issuer.headers)


def _mails_to(client, address: str) -> list[dict]:
    return [m for m in outbox(client)["emails"] if address in m["to"]]


def _flag(ubn: str) -> bool:
    period = Period.from_date(datetime.now(TAIWAN_TZ).date()).code
    counter = DynamoTracks().counter(ubn, period, "07", "online")
    assert counter is not None
    return counter.low_stock_notified


def _notices(ubn: str, numbers: list[str]) -> list[dict]:
    items = [DynamoInvoices().outbox(ubn, number, "low_stock") for number in numbers]
    return [item for item in items if item is not None]


def test_a_mail_outage_never_fails_the_invoice_and_the_notice_goes_out_once_later(
    client, staff_headers, new_merchant, monkeypatch: pytest.MonkeyPatch
):
    email = f"stock-{secrets.token_hex(6)}@example.com"
    issuer = _low_on_stock(client, staff_headers, new_merchant, email)
    ses = monkeypatch.context()
    with ses as patch:
        patch.setenv("AWS_ENDPOINT_URL_SES", f"http://127.0.0.1:{free_port()}")  # nothing listens there

        response = _issue(client, issuer)  # no Idempotency-Key: an error here would make the client issue twice

        assert response.status_code == 201
        number = body_of(response)["invoice_number"]
        assert client.http.get(f"/v1/invoices/{number}", headers=issuer.headers).status_code == 200
        [notice] = _notices(issuer.ubn, [number])
        assert notice["status"] == "pending"
        assert notice["remaining"] == THRESHOLD - 1
        assert _flag(issuer.ubn) is False

        # The worker cannot send either: the notice stays pending, the failure is counted.
        with pytest.raises(Exception):  # noqa: B017 - whatever the mail adapter raises for a refused connection
            processor().process(issuer.ubn, number, "low_stock")
        [notice] = _notices(issuer.ubn, [number])
        assert notice["status"] == "pending"
        assert notice["steps"]["email"] == "pending"
        assert notice["attempts"] == 1
        assert _flag(issuer.ubn) is False

    assert _mails_to(client, email) == []
    assert processor().process(issuer.ubn, number, "low_stock") is Outcome.DONE

    [mail] = _mails_to(client, email)
    assert "running low" in mail["subject"]
    assert f"{THRESHOLD - 1}" in mail["body"]
    assert _flag(issuer.ubn) is True
    [notice] = _notices(issuer.ubn, [number])
    assert notice["status"] == "done"
    assert "gsi1pk" not in notice  # out of the sweeper's index

    # A redelivered wake-up, or the sweeper finding it again, sends nothing more.
    assert processor().process(issuer.ubn, number, "low_stock") is Outcome.ALREADY_DONE
    item = DynamoInvoices().outbox(issuer.ubn, number, "low_stock") or {}
    assert handle_stream_records([stream_record({**item, "status": "pending"})]) == [Outcome.ALREADY_DONE.value]
    assert len(_mails_to(client, email)) == 1


def test_concurrent_issues_below_the_threshold_make_one_notice(client, staff_headers, new_merchant):
    email = f"stock-{secrets.token_hex(6)}@example.com"
    issuer = _low_on_stock(client, staff_headers, new_merchant, email)
    barrier = threading.Barrier(4)
    numbers: list[str] = []
    lock = threading.Lock()

    def issue_three() -> None:
        barrier.wait()
        for _ in range(3):
            response = _issue(client, issuer)
            assert response.status_code == 201
            with lock:
                numbers.append(body_of(response)["invoice_number"])

    threads = [threading.Thread(target=issue_three) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(numbers)) == 12
    [notice] = _notices(issuer.ubn, numbers)  # every one of the twelve went below 100; one notice
    for _ in range(2):  # the message and the sweeper both reach it
        processor().process(issuer.ubn, str(notice["invoice_number"]), "low_stock")
    assert len(_mails_to(client, email)) == 1
    assert _flag(issuer.ubn) is True

    # Once the merchant was told, issuing further below the threshold queues nothing.
    later = body_of(_issue(client, issuer))["invoice_number"]
    assert _notices(issuer.ubn, [later]) == []


def test_more_booklets_start_a_new_notice_and_supersede_an_unsent_one(client, staff_headers, new_merchant):
    email = f"stock-{secrets.token_hex(6)}@example.com"
    issuer = _low_on_stock(client, staff_headers, new_merchant, email)
    first = body_of(_issue(client, issuer))["invoice_number"]
    assert len(_notices(issuer.ubn, [first])) == 1

    # The merchant assigns the sixth booklet before the notice went out: 149 left, still below 150.
    client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **issuer.headers},
        body=json.dumps({"settings": {"low_stock_threshold": 150}}),
    )
    track_id = f"{Period.from_date(datetime.now(TAIWAN_TZ).date()).code}-07-{issuer.track}-{issuer.begin:08d}"
    assigned = client.http.put(
        f"/v1/tracks/{track_id}/channels",
        headers={"Content-Type": "application/json", **issuer.headers},
        body=json.dumps({"assignments": [{"channel": "online", "booklets": 1}]}),
    )
    assert assigned.status_code == 200
    second = body_of(_issue(client, issuer))["invoice_number"]
    [renewed] = _notices(issuer.ubn, [second])
    assert renewed["remaining"] == 148

    # The stale notice ("99 left") is skipped, not sent; the current one is sent and marks the counter.
    assert processor().process(issuer.ubn, first, "low_stock") is Outcome.DONE
    assert _mails_to(client, email) == []
    assert _flag(issuer.ubn) is False
    assert processor().process(issuer.ubn, second, "low_stock") is Outcome.DONE
    [mail] = _mails_to(client, email)
    assert "148" in mail["body"]
    assert _flag(issuer.ubn) is True
