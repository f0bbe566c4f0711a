"""字軌 (/console/tracks): the list per period, one range (取號 and channels), the allocation file
and the blank-number report with its downloads."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from lxml import etree

from chalicelib.api import deps
from tests.api.conftest import body_of, random_ubn
from tests.numbers import take
from tests.web.conftest import Console, error_text, text_of
from tests.web.tracks_setup import activate_and_assign, allocate, random_begin, random_track, this_period

E0402 = "{urn:GEINV:eInvoiceMessage:E0402:4.1}"


def _tracks(client, merchant) -> list[dict[str, Any]]:
    return body_of(client.http.get("/v1/tracks", headers=merchant.headers))["items"]


def _upload(browser: Console, filename: str, data: bytes, content_type: str) -> Any:
    """The allocation file as a browser sends a file input (multipart/form-data)."""
    return browser.post_multipart("/console/tracks/import", {}, {"file": (filename, data, content_type)})


def _e0501(ubn: str, track: str, begin: int, booklets: int) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<InvoiceAssignNo xmlns="urn:GEINV:eInvoiceMessage:E0501:4.1">
  <Ban>{ubn}</Ban><InvoiceType>07</InvoiceType><YearMonth>{this_period()}</YearMonth>
  <InvoiceTrack>{track}</InvoiceTrack><InvoiceBeginNo>{begin:08d}</InvoiceBeginNo>
  <InvoiceEndNo>{begin + booklets * 50 - 1:08d}</InvoiceEndNo><InvoiceBooklet>{booklets}</InvoiceBooklet>
</InvoiceAssignNo>""".encode()


def _csv_row(ubn: str, track: str, begin: int, booklets: int) -> str:
    code = this_period()
    roc, month = code[:3], int(code[3:])
    return (
        f"{ubn},07,一般,{roc}/{month - 1:02d} ~ {roc}/{month:02d},{track},{begin:08d},{begin + booklets * 50 - 1:08d}"
    )


# --- sign-in and language ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/console/tracks",
        f"/console/tracks/{this_period()}-07-AB-00000000",
        "/console/tracks/import",
        "/console/tracks/blank-report",
        "/console/tracks/blank-report/download?format=json",
    ],
)
def test_every_tracks_page_needs_a_sign_in(console, path) -> None:
    response = console.get(path)
    assert response.status_code == 303 and response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize(
    "path",
    [
        f"/console/tracks/{this_period()}-07-AB-00000000/activate",
        f"/console/tracks/{this_period()}-07-AB-00000000/channels",
        "/console/tracks/import",
    ],
)
def test_changing_tracks_needs_a_sign_in(console, path) -> None:
    response = console.post(path, {"booklets": "1"})
    assert response.status_code == 303 and response.headers["Location"] == "/login"


def test_the_tracks_pages_in_english(signed_in, client, staff_headers) -> None:
    browser, merchant = signed_in()
    track_id, _, _ = allocate(client, staff_headers, merchant.ubn, 1)
    browser.get("/console?lang=en")
    expected = {
        "/console/tracks": "Choose a range to activate",
        f"/console/tracks/{track_id}": "Booklets to activate",
        "/console/tracks/import": "E0501 XML layout",
        "/console/tracks/blank-report": "Download the E0402 file",
    }
    for path, label in expected.items():
        html = text_of(browser.get(path))
        assert label in html, path
        assert "字軌本" not in html and "取號本數" not in html, path


# --- list and one range ------------------------------------------------------------------------


def test_the_list_shows_this_periods_ranges_and_links_to_each(signed_in, client, staff_headers) -> None:
    browser, merchant = signed_in()
    track_id, track, begin = allocate(client, staff_headers, merchant.ubn, 2)
    html = text_of(browser.get("/console/tracks"))
    assert f'href="/console/tracks/{track_id}"' in html
    assert f"{begin:08d}–{begin + 99:08d}" in html and track in html
    assert "已配號，未取號" in html and "× 2" in html
    earlier = int(this_period()) - 2 if this_period()[3:] != "02" else int(this_period()) - 90
    other = text_of(browser.get(f"/console/tracks?period={earlier:05d}"))
    assert track_id not in other and "此期別沒有字軌" in other


def test_a_bad_period_is_an_error_page_not_a_crash(signed_in) -> None:
    browser, _ = signed_in()
    response = browser.get("/console/tracks?period=11311")
    assert response.status_code == 400 and "期別" in text_of(response)


def test_activate_then_assign_booklets_to_channels(signed_in, client, staff_headers) -> None:
    browser, merchant = signed_in()
    track_id, track, begin = allocate(client, staff_headers, merchant.ubn, 4)
    page = text_of(browser.get(f"/console/tracks/{track_id}"))
    assert "等待取號的字軌本：4" in page

    activated = browser.post(f"/console/tracks/{track_id}/activate", {"booklets": "3"})
    assert activated.status_code == 303
    assert activated.headers["Location"] == f"/console/tracks/{track_id}?done=activated"
    assert [b["status"] for b in _tracks(client, merchant)[0]["booklets"]] == ["active"] * 3 + ["allocated"]

    online = browser.post(f"/console/tracks/{track_id}/channels", {"kind": "online", "device": "", "booklets": "2"})
    assert online.status_code == 303
    till = browser.post(f"/console/tracks/{track_id}/channels", {"kind": "pos", "device": "till-1", "booklets": "1"})
    assert till.status_code == 303
    booklets = _tracks(client, merchant)[0]["booklets"]
    assert [b["channel"] for b in booklets] == ["online", "online", "pos:till-1", None]

    page = text_of(browser.get(till.headers["Location"]))
    assert "已指派給開立通路" in page
    assert f"{track}{begin:08d}" in page  # the online channel's next number is its first
    assert "POS till-1" in page


def test_leaving_the_count_empty_activates_every_waiting_booklet(signed_in, client, staff_headers) -> None:
    browser, merchant = signed_in()
    track_id, _, _ = allocate(client, staff_headers, merchant.ubn, 3)
    assert browser.post(f"/console/tracks/{track_id}/activate", {"booklets": ""}).status_code == 303
    assert {b["status"] for b in _tracks(client, merchant)[0]["booklets"]} == {"active"}


def test_refused_activations_and_assignments_show_the_reason_next_to_the_field(
    signed_in, client, staff_headers
) -> None:
    browser, merchant = signed_in()
    track_id, _, _ = allocate(client, staff_headers, merchant.ubn, 2)
    too_many = browser.post(f"/console/tracks/{track_id}/activate", {"booklets": "5"})
    assert too_many.status_code == 422
    assert "僅剩 2 本" in error_text(text_of(too_many), "activate-booklets")
    not_a_number = browser.post(f"/console/tracks/{track_id}/activate", {"booklets": "兩本"})
    assert not_a_number.status_code == 422 and "正整數" in error_text(text_of(not_a_number), "activate-booklets")
    browser.post(f"/console/tracks/{track_id}/activate", {"booklets": "1"})

    bad_device = browser.post(
        f"/console/tracks/{track_id}/channels", {"kind": "pos", "device": "till 1", "booklets": "1"}
    )
    assert bad_device.status_code == 422
    assert "pos:<裝置代號>" in error_text(text_of(bad_device), "f-device")
    more_than_free = browser.post(f"/console/tracks/{track_id}/channels", {"kind": "api", "booklets": "2"})
    assert more_than_free.status_code == 422
    assert "僅剩 1 本" in error_text(text_of(more_than_free), "assign-booklets")
    no_count = browser.post(f"/console/tracks/{track_id}/channels", {"kind": "api", "booklets": ""})
    assert no_count.status_code == 422 and error_text(text_of(no_count), "assign-booklets")
    assert {b["channel"] for b in _tracks(client, merchant)[0]["booklets"]} == {None}


def test_another_merchant_gets_404_for_my_range_and_changes_nothing(signed_in, client, staff_headers) -> None:
    owner, merchant = signed_in()
    stranger, _ = signed_in()
    track_id, _, _ = allocate(client, staff_headers, merchant.ubn, 2)
    assert stranger.get(f"/console/tracks/{track_id}").status_code == 404
    assert stranger.post(f"/console/tracks/{track_id}/activate", {"booklets": ""}).status_code == 404
    assigned = stranger.post(f"/console/tracks/{track_id}/channels", {"kind": "online", "booklets": "1"})
    assert assigned.status_code == 404
    assert track_id not in text_of(stranger.get("/console/tracks"))
    assert [b["status"] for b in _tracks(client, merchant)[0]["booklets"]] == ["allocated", "allocated"]
    assert owner.get(f"/console/tracks/{track_id}").status_code == 200
    assert stranger.get("/console/tracks/not-a-track-id").status_code == 404


# --- allocation file ---------------------------------------------------------------------------


def test_the_import_page_shows_both_layouts_with_an_example(signed_in) -> None:
    browser, merchant = signed_in()
    html = text_of(browser.get("/console/tracks/import"))
    assert 'enctype="multipart/form-data"' in html and 'type="file"' in html
    assert "&lt;InvoiceAssignNo" in html and f"&lt;Ban&gt;{merchant.ubn}&lt;/Ban&gt;" in html
    assert "統一編號,發票類別,字軌類別,期別,字軌,起號,迄號" in html


def test_an_e0501_file_is_loaded_once_and_its_ranges_are_ready_to_assign(signed_in, client) -> None:
    browser, merchant = signed_in()
    track, begin = random_track(), random_begin(2)
    data = _e0501(merchant.ubn, track, begin, 2)
    first = _upload(browser, "E0501.xml", data, "text/xml")
    assert first.status_code == 200, text_of(first)
    assert "新匯入 1 段，先前已匯入 0 段" in text_of(first)
    [loaded] = _tracks(client, merchant)
    assert (loaded["track"], loaded["begin_no"]) == (track, f"{begin:08d}")
    assert {b["status"] for b in loaded["booklets"]} == {"active"}  # taken up on the MOF platform
    assert f'href="/console/tracks/{loaded["track_id"]}"' in text_of(first)
    again = _upload(browser, "E0501.xml", data, "application/xml")
    assert "新匯入 0 段，先前已匯入 1 段" in text_of(again)


def test_a_big5_csv_is_loaded(signed_in, client) -> None:
    browser, merchant = signed_in()
    track, begin = random_track(), random_begin(1)
    csv = ("統一編號,發票類別,字軌類別,期別,字軌,起號,迄號\n" + _csv_row(merchant.ubn, track, begin, 1) + "\n").encode(
        "cp950"
    )
    loaded = _upload(browser, "配號.csv", csv, "text/csv")
    assert loaded.status_code == 200, text_of(loaded)
    assert [(t["track"], t["begin_no"]) for t in _tracks(client, merchant)] == [(track, f"{begin:08d}")]


def test_a_file_with_another_merchants_range_is_refused_whole(signed_in, client) -> None:
    browser, merchant = signed_in()
    track, begin = random_track(), random_begin(2)
    rows = [_csv_row(merchant.ubn, track, begin, 1), _csv_row(random_ubn(), track, begin + 50, 1)]
    refused = _upload(browser, "mixed.csv", "\n".join(rows).encode("cp950"), "text/csv")
    assert refused.status_code == 422
    assert "不是您的" in error_text(text_of(refused), "f-file")
    assert _tracks(client, merchant) == []
    garbage = _upload(browser, "broken.xml", b"<not-xml", "text/xml")
    assert garbage.status_code == 422 and error_text(text_of(garbage), "f-file")
    missing = browser.post("/console/tracks/import", {})
    assert missing.status_code == 422 and "請選擇配號檔" in error_text(text_of(missing), "f-file")


# --- blank-number report -----------------------------------------------------------------------


def test_the_blank_report_shows_the_unused_numbers_and_downloads_e0402(signed_in, client, staff_headers) -> None:
    browser, merchant = signed_in()
    track_id, track, begin = allocate(client, staff_headers, merchant.ubn, 3)
    activate_and_assign(client, merchant.headers, track_id, [{"channel": "api", "begin_nos": [f"{begin + 50:08d}"]}])
    service = deps.numbering_service()
    for _ in range(10):
        take(service, merchant.ubn, "api")
    # Hand-worked: booklet 1 is untouched (begin..begin+49); booklet 2 used up to begin+59, so
    # begin+60..begin+149 are blank: 50 + 90 = 140 numbers in two ranges.
    html = text_of(browser.get("/console/tracks/blank-report"))
    assert f"{track}{begin:08d}" in html and f"{track}{begin + 49:08d}" in html
    assert f"{track}{begin + 60:08d}" in html and f"{track}{begin + 149:08d}" in html
    assert re.search(r"空白號碼合計</dt><dd>140<", html)
    assert "僅供預覽" in html  # the period is still open

    link = re.search(r'href="(/console/tracks/blank-report/download\?period=\d+&amp;track=[A-Z]{2}&amp;type=07)"', html)
    assert link
    xml = browser.get(link.group(1).replace("&amp;", "&"))
    assert xml.status_code == 200
    assert xml.headers["Content-Type"].startswith("application/xml")
    assert f'filename="E0402-{this_period()}-{track}.xml"' in xml.headers["Content-Disposition"]
    root = etree.fromstring(xml.body if isinstance(xml.body, bytes) else xml.body.encode())
    items = [
        (item.findtext(f"{E0402}InvoiceBeginNo"), item.findtext(f"{E0402}InvoiceEndNo"))
        for item in root.iter(f"{E0402}BranchTrackBlankItem")
    ]
    assert items == [(f"{begin:08d}", f"{begin + 49:08d}"), (f"{begin + 60:08d}", f"{begin + 149:08d}")]

    summary = browser.get(f"/console/tracks/blank-report/download?period={this_period()}&format=json")
    assert "attachment" in summary.headers["Content-Disposition"]
    data = json.loads(summary.body)
    assert [r["count"] for r in data["reports"][0]["ranges"]] == [50, 90]
    assert data["final"] is False


def test_the_blank_report_of_another_merchant_is_not_mine(signed_in, client, staff_headers) -> None:
    _, merchant = signed_in()
    stranger, _ = signed_in()
    _, track, begin = allocate(client, staff_headers, merchant.ubn, 1)
    assert f"{track}{begin:08d}" not in text_of(stranger.get("/console/tracks/blank-report"))
    download = stranger.get(f"/console/tracks/blank-report/download?period={this_period()}&track={track}")
    assert download.status_code == 404
    assert "此期別沒有空白號碼" in text_of(stranger.get("/console/tracks/blank-report"))


def test_early_in_a_period_the_page_points_to_last_periods_report(signed_in, monkeypatch) -> None:
    from chalicelib.domain.period import Period
    from chalicelib.web import track_pages

    browser, _ = signed_in()
    last = Period.parse(this_period()).previous()
    assert "查看上期報表" not in text_of(browser.get(f"/console/tracks/blank-report?period={last.code}"))
    # As if today were the first day of the next period: this period's report is then the one due.
    upcoming = Period.parse(this_period()).next()
    monkeypatch.setattr(track_pages, "current_period", lambda: upcoming)
    html = text_of(browser.get(f"/console/tracks/blank-report?period={upcoming.code}"))
    assert f'href="/console/tracks/blank-report?period={this_period()}"' in html and "查看上期報表" in html
