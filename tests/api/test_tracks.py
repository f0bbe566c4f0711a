"""Tracks (字軌) over HTTP: allocation, import, activation, channels, overview, blank-number report."""

from __future__ import annotations

import json
import secrets
from datetime import datetime

from lxml import etree

from chalicelib.api import deps
from chalicelib.api.outbox_events import processor
from chalicelib.domain.period import TAIWAN_TZ, Period
from tests.api.conftest import body_of, post_json, random_ubn
from tests.numbers import take

E0402 = "{urn:GEINV:eInvoiceMessage:E0402:4.1}"


def _period() -> str:
    return Period.from_date(datetime.now(TAIWAN_TZ).date()).code


def _track() -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return secrets.choice(letters) + secrets.choice(letters)


def _begin(booklets: int) -> int:
    return secrets.randbelow(1_000_000 - booklets) * 50


def _allocate(client, staff_headers, ubn, track, begin, booklets, period=None):
    return post_json(
        client,
        "/v1/admin/allocations",
        {
            "ubn": ubn,
            "period": period or _period(),
            "invoice_type": "07",
            "track": track,
            "begin_no": f"{begin:08d}",
            "end_no": f"{begin + booklets * 50 - 1:08d}",
        },
        staff_headers,
    )


def _tracks(client, merchant):
    return body_of(client.http.get("/v1/tracks", headers=merchant.headers))["items"]


def _issue(merchant, channel, count):
    service = deps.numbering_service()
    return [take(service, merchant.ubn, channel).number.value for _ in range(count)]


def test_allocate_activate_assign_and_see_the_numbers_move(client, staff_headers, new_merchant):
    merchant = new_merchant()
    track, begin = _track(), _begin(4)
    allocated = _allocate(client, staff_headers, merchant.ubn, track, begin, 4)
    assert allocated.status_code == 201
    track_id = body_of(allocated)["track_id"]
    assert track_id == f"{_period()}-07-{track}-{begin:08d}"

    [listed] = _tracks(client, merchant)
    assert [b["status"] for b in listed["booklets"]] == ["allocated"] * 4

    activated = post_json(client, f"/v1/tracks/{track_id}/activate", {"booklets": 3}, merchant.headers)
    assert activated.status_code == 200
    assert [b["status"] for b in body_of(activated)["booklets"]] == ["active"] * 3 + ["allocated"]

    assigned = client.http.put(
        f"/v1/tracks/{track_id}/channels",
        headers={"Content-Type": "application/json", **merchant.headers},
        body=json.dumps(
            {"assignments": [{"channel": "online", "booklets": 2}, {"channel": "pos:till-1", "booklets": 1}]}
        ),
    )
    assert assigned.status_code == 200
    booklets = body_of(assigned)["booklets"]
    assert [b["channel"] for b in booklets] == ["online", "online", "pos:till-1", None]

    numbers = _issue(merchant, "pos:till-1", 3)
    assert numbers == [f"{track}{begin + 100 + i:08d}" for i in range(3)]
    [listed] = _tracks(client, merchant)
    till = listed["booklets"][2]
    assert (till["used"], till["remaining"], till["next_no"]) == (3, 47, f"{track}{begin + 103:08d}")
    assert listed["used"] == 3
    assert listed["remaining"] == 197


def test_blank_report_lists_every_unused_number_as_e0402(client, staff_headers, new_merchant):
    merchant = new_merchant()
    track, begin = _track(), _begin(3)
    track_id = body_of(_allocate(client, staff_headers, merchant.ubn, track, begin, 3))["track_id"]
    post_json(client, f"/v1/tracks/{track_id}/activate", {}, merchant.headers)
    client.http.put(
        f"/v1/tracks/{track_id}/channels",
        headers={"Content-Type": "application/json", **merchant.headers},
        body=json.dumps({"assignments": [{"channel": "api", "begin_nos": [f"{begin + 50:08d}"]}]}),
    )
    _issue(merchant, "api", 10)
    # Hand-worked: booklet 1 unused (begin..begin+49), booklet 2 used up to begin+59,
    # so begin+60..begin+149 blank; the two stretches are separate ranges.
    response = client.http.get(f"/v1/tracks/blank-report?period={_period()}", headers=merchant.headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    root = etree.fromstring(response.body)
    assert root.tag == f"{E0402}BranchTrackBlank"
    assert root.findtext(f"{E0402}Main/{E0402}BranchBan") == merchant.ubn
    assert root.findtext(f"{E0402}Main/{E0402}InvoiceTrack") == track
    items = [
        (item.findtext(f"{E0402}InvoiceBeginNo"), item.findtext(f"{E0402}InvoiceEndNo"))
        for item in root.iter(f"{E0402}BranchTrackBlankItem")
    ]
    assert items == [(f"{begin:08d}", f"{begin + 49:08d}"), (f"{begin + 60:08d}", f"{begin + 149:08d}")]

    summary = body_of(
        client.http.get(f"/v1/tracks/blank-report?period={_period()}&format=json", headers=merchant.headers)
    )
    assert summary["reports"][0]["ranges"][1]["count"] == 90
    assert summary["final"] is False


def test_overlapping_allocations_are_refused_across_merchants(client, staff_headers, new_merchant):
    first, second = new_merchant(), new_merchant()
    track, begin = _track(), _begin(10)
    assert _allocate(client, staff_headers, first.ubn, track, begin, 4).status_code == 201
    clash = _allocate(client, staff_headers, second.ubn, track, begin + 150, 4)
    assert clash.status_code == 409
    assert body_of(clash)["error"]["code"] == "TRACK_RANGE_OVERLAP"
    assert _tracks(client, second) == []
    again = _allocate(client, staff_headers, first.ubn, track, begin, 4)
    assert again.status_code == 200
    assert body_of(again)["created"] is False


def test_allocation_input_is_checked(client, staff_headers, new_merchant):
    merchant = new_merchant()
    bad_begin = post_json(
        client,
        "/v1/admin/allocations",
        {
            "ubn": merchant.ubn,
            "period": _period(),
            "invoice_type": "07",
            "track": "AB",
            "begin_no": "12345610",
            "end_no": "12345699",
        },
        staff_headers,
    )
    assert bad_begin.status_code == 400
    assert body_of(bad_begin)["error"]["field"] == "begin_no"
    odd_period = _allocate(client, staff_headers, merchant.ubn, "AB", 0, 1, period="11411")
    assert odd_period.status_code == 400
    assert body_of(odd_period)["error"]["field"] == "period"
    unregistered = _allocate(client, staff_headers, random_ubn(), "AB", 0, 1)
    assert unregistered.status_code == 422
    merchant_tries = _allocate(client, merchant.headers, merchant.ubn, "AB", 0, 1)
    assert merchant_tries.status_code == 403


def test_import_of_e0501_and_csv_is_harmless_to_repeat(client, staff_headers, new_merchant):
    merchant = new_merchant()
    period = Period.from_date(datetime.now(TAIWAN_TZ).date())
    track, begin = _track(), _begin(4)
    e0501 = f"""<?xml version="1.0" encoding="UTF-8"?>
<InvoiceAssignNo xmlns="urn:GEINV:eInvoiceMessage:E0501:4.1">
  <Ban>{merchant.ubn}</Ban><InvoiceType>07</InvoiceType><YearMonth>{period.code}</YearMonth>
  <InvoiceTrack>{track}</InvoiceTrack><InvoiceBeginNo>{begin:08d}</InvoiceBeginNo>
  <InvoiceEndNo>{begin + 99:08d}</InvoiceEndNo><InvoiceBooklet>2</InvoiceBooklet>
</InvoiceAssignNo>""".encode()
    headers = {"Content-Type": "application/xml", **merchant.headers}
    first = client.http.post("/v1/tracks/import", headers=headers, body=e0501)
    assert first.status_code == 201, first.body
    assert body_of(first)["imported"] == 1
    again = client.http.post("/v1/tracks/import", headers=headers, body=e0501)
    assert again.status_code == 200
    assert body_of(again) | {"ranges": None} == {"imported": 0, "already_loaded": 1, "ranges": None}
    # imported ranges are already taken up (取號) on the MOF platform: active, ready to assign
    assert {b["status"] for b in _tracks(client, merchant)[0]["booklets"]} == {"active"}

    roc = period.code[:3]
    months = f"{int(period.code[3:]) - 1:02d}", period.code[3:]
    csv = (
        "統一編號,發票類別,字軌類別,期別,字軌,起號,迄號\n"
        f"{merchant.ubn},07,一般,{roc}/{months[0]} ~ {roc}/{months[1]},{track},{begin + 100:08d},{begin + 199:08d}\n"
    ).encode("cp950")
    imported = client.http.post("/v1/tracks/import", headers={"Content-Type": "text/csv", **merchant.headers}, body=csv)
    assert imported.status_code == 201, imported.body
    assert len(_tracks(client, merchant)) == 2


def test_import_refuses_another_merchants_allocation_and_keeps_nothing(client, staff_headers, new_merchant):
    merchant = new_merchant()
    period = Period.from_date(datetime.now(TAIWAN_TZ).date())
    track, begin = _track(), _begin(2)
    roc, month = period.code[:3], int(period.code[3:])
    rows = [
        f"{merchant.ubn},07,,{roc}/{month - 1:02d} ~ {roc}/{month:02d},{track},{begin:08d},{begin + 49:08d}",
        f"{random_ubn()},07,,{roc}/{month - 1:02d} ~ {roc}/{month:02d},{track},{begin + 50:08d},{begin + 99:08d}",
    ]
    response = client.http.post(
        "/v1/tracks/import",
        headers={"Content-Type": "text/csv", **merchant.headers},
        body="\n".join(rows).encode("cp950"),
    )
    assert response.status_code == 422
    assert body_of(response)["error"]["code"] == "FOREIGN_ALLOCATION"
    assert body_of(response)["error"]["field"] == "records[1].ubn"
    assert _tracks(client, merchant) == []


def test_assigning_more_booklets_than_are_free_changes_nothing(client, staff_headers, new_merchant):
    merchant = new_merchant()
    track, begin = _track(), _begin(2)
    track_id = body_of(_allocate(client, staff_headers, merchant.ubn, track, begin, 2))["track_id"]
    post_json(client, f"/v1/tracks/{track_id}/activate", {"booklets": 1}, merchant.headers)
    response = client.http.put(
        f"/v1/tracks/{track_id}/channels",
        headers={"Content-Type": "application/json", **merchant.headers},
        body=json.dumps({"assignments": [{"channel": "api", "booklets": 2}]}),
    )
    assert response.status_code == 422
    assert body_of(response)["error"]["field"] == "assignments[0].booklets"
    bad_channel = client.http.put(
        f"/v1/tracks/{track_id}/channels",
        headers={"Content-Type": "application/json", **merchant.headers},
        body=json.dumps({"assignments": [{"channel": "till 1", "booklets": 1}]}),
    )
    assert bad_channel.status_code == 400
    assert body_of(bad_channel)["error"]["field"] == "assignments[0].channel"
    assert {b["channel"] for b in _tracks(client, merchant)[0]["booklets"]} == {None}


def test_another_merchant_cannot_see_or_touch_my_tracks(client, staff_headers, new_merchant):
    owner, other = new_merchant(), new_merchant()
    track, begin = _track(), _begin(2)
    track_id = body_of(_allocate(client, staff_headers, owner.ubn, track, begin, 2))["track_id"]
    assert post_json(client, f"/v1/tracks/{track_id}/activate", {}, other.headers).status_code == 404
    assigned = client.http.put(
        f"/v1/tracks/{track_id}/channels",
        headers={"Content-Type": "application/json", **other.headers},
        body=json.dumps({"assignments": [{"channel": "api", "booklets": 1}]}),
    )
    assert assigned.status_code == 404
    assert _tracks(client, other) == []
    report = body_of(client.http.get("/v1/tracks/blank-report?format=json", headers=other.headers))
    assert report["reports"] == []
    assert [b["status"] for b in _tracks(client, owner)[0]["booklets"]] == ["allocated", "allocated"]


def test_low_stock_is_emailed_once(client, staff_headers, new_merchant):
    merchant = new_merchant()
    email = f"stock-{merchant.ubn}@example.com"
    client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **merchant.headers},
        body=json.dumps({"email": email, "settings": {"low_stock_threshold": 48}}),
    )
    track, begin = _track(), _begin(1)
    track_id = body_of(_allocate(client, staff_headers, merchant.ubn, track, begin, 1))["track_id"]
    post_json(client, f"/v1/tracks/{track_id}/activate", {}, merchant.headers)
    client.http.put(
        f"/v1/tracks/{track_id}/channels",
        headers={"Content-Type": "application/json", **merchant.headers},
        body=json.dumps({"assignments": [{"channel": "online", "booklets": 1}]}),
    )
    service = deps.numbering_service()
    taken = [take(service, merchant.ubn, "online", low_stock_threshold=48) for _ in range(5)]
    crossed = [t.number.value for t in taken if t.low_stock_crossed]
    assert crossed == [taken[2].number.value]  # 47 left after the third
    assert _mails_to(client, email) == []  # issuing sends nothing itself: the outbox does
    for number in crossed * 2:  # a second delivery of the same item sends nothing more
        processor().process(merchant.ubn, number, "low_stock")
    mails = _mails_to(client, email)
    assert len(mails) == 1
    assert "47" in mails[0]["body"]


def _mails_to(client, address):
    return [m for m in body_of(client.http.get("/local/outbox"))["emails"] if address in m["to"]]
