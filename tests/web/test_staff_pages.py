"""The tax office's (稽徵機關) screens over HTTP: the registry and its CSV import, the initial password,
allocations (配號) and the period jobs. Staff only; errors are shown next to the field they name."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

import pytest

from chalicelib.adapters.dynamo_merchants import DynamoMerchants
from chalicelib.domain.period import TAIWAN_TZ, Period
from tests.api.conftest import (
    STAFF_USERNAME,
    body_of,
    last_code_sent_to,
    post_json,
    random_ubn,
)
from tests.web.conftest import Console, text_of
from tests.web.tracks_setup import random_begin, random_track

STAFF_GETS = (
    "/staff",
    "/staff/registry",
    "/staff/registry/new",
    "/staff/registry/import",
    "/staff/registry/12345675",
    "/staff/allocations",
    "/staff/jobs",
)
STAFF_POSTS = (
    "/staff/registry/new",
    "/staff/registry/import",
    "/staff/registry/12345675",
    "/staff/registry/12345675/credentials",
    "/staff/allocations",
    "/staff/jobs/close",
)


def _current() -> Period:
    return Period.from_date(datetime.now(TAIWAN_TZ).date())


def _error_of(page: str, field_id: str) -> str:
    """The text of the error shown under one input (``f-<name>-error``), or ''."""
    match = re.search(rf'id="{field_id}-error"[^>]*>([^<]*)<', page)
    return match.group(1) if match else ""


def _upload(browser: Console, path: str, fields: dict[str, str], filename: str, data: bytes) -> Any:
    """A multipart form with one CSV file, as a browser sends a file input."""
    return browser.post_multipart(path, fields, {"file": (filename, data, "text/csv")})


def _register(staff: Console, ubn: str, name: str = "新開商行", status: str = "active") -> Any:
    return staff.post(
        "/staff/registry/new", {"ubn": ubn, "name": name, "address": "臺北市大安區仁愛路四段1號", "status": status}
    )


def _allocate(
    staff: Console, ubn: str, track: str, begin: int, booklets: int = 1, overrides: dict[str, str] | None = None
) -> Any:
    form = {
        "ubn": ubn,
        "period": _current().code,
        "invoice_type": "07",
        "track": track,
        "begin_no": f"{begin:08d}",
        "end_no": f"{begin + booklets * 50 - 1:08d}",
        **(overrides or {}),
    }
    return staff.post("/staff/allocations", form)


# --- who may open these pages -------------------------------------------------------------------


@pytest.mark.parametrize("path", STAFF_GETS)
def test_a_stranger_is_sent_to_the_staff_sign_in(console: Console, path: str) -> None:
    response = console.get(path)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/staff/login?next={path}"


@pytest.mark.parametrize("path", STAFF_GETS)
def test_a_merchant_is_sent_to_the_staff_sign_in(signed_in, path: str) -> None:
    browser, _ = signed_in()
    response = browser.get(path)
    assert response.status_code == 303
    assert response.headers["Location"].split("?")[0] == "/staff/login"


@pytest.mark.parametrize("path", STAFF_POSTS)
def test_a_merchant_cannot_change_anything_here(signed_in, path: str) -> None:
    browser, merchant = signed_in()
    form = {"ubn": merchant.ubn, "name": "冒名", "address": "", "status": "closed", "period": "11402"}
    response = browser.post(path.replace("12345675", merchant.ubn), form)
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/login"


def test_a_merchant_holding_a_staff_page_link_changes_nothing_in_the_registry(client, signed_in, staff) -> None:
    browser, merchant = signed_in()
    browser.post(f"/staff/registry/{merchant.ubn}", {"name": "冒名", "address": "", "status": "closed"})
    page = text_of(staff.get(f"/staff/registry/{merchant.ubn}"))
    assert "冒名" not in page and "營業中" in page


def test_a_change_without_the_csrf_token_is_refused(staff) -> None:
    ubn = random_ubn()
    response = staff.post("/staff/registry/new", {"ubn": ubn, "name": "無權杖", "status": "active"}, csrf=False)
    assert response.status_code == 403
    assert staff.get(f"/staff/registry?ubn={ubn}").status_code == 200  # not registered: no redirect to it


# --- home ------------------------------------------------------------------------------------


def test_the_home_links_every_screen_with_what_needs_doing(staff) -> None:
    page = text_of(staff.get("/staff"))
    for link in ('href="/staff/registry"', 'href="/staff/allocations"', 'href="/staff/jobs"'):
        assert link in page
    assert _current().code in page and _current().previous().code in page
    assert re.search(r"\d+ / 4", page), "how many of the last period's jobs are done"


# --- the registry ------------------------------------------------------------------------------


def test_staff_register_a_business_and_find_it_by_ubn(staff, client, staff_headers) -> None:
    ubn = random_ubn()
    created = _register(staff, ubn, "仁愛早餐店")
    assert created.status_code == 303 and created.headers["Location"] == f"/staff/registry/{ubn}?saved=1"
    page = text_of(staff.get(created.headers["Location"]))
    assert "仁愛早餐店" in page and "臺北市大安區仁愛路四段1號" in page and "已儲存" in page
    assert "尚無平台帳號" in page  # no account until the initial password is issued

    found = staff.get(f"/staff/registry?ubn={ubn}")
    assert found.status_code == 303 and found.headers["Location"] == f"/staff/registry/{ubn}"
    record = body_of(client.http.get(f"/v1/admin/tax-registry/{ubn}", headers=staff_headers))
    assert record["name"] == "仁愛早餐店" and record["status"] == "active"
    assert record["updated_by"] == f"staff:{STAFF_USERNAME}"


def test_a_ubn_not_in_the_registry_offers_to_register_it(staff) -> None:
    ubn = random_ubn()
    page = text_of(staff.get(f"/staff/registry?ubn={ubn}"))
    assert "查無" in page and f'href="/staff/registry/new?ubn={ubn}"' in page
    form = text_of(staff.get(f"/staff/registry/new?ubn={ubn}"))
    assert f'value="{ubn}"' in form


def test_a_wrong_ubn_is_shown_next_to_the_search_field(staff) -> None:
    response = staff.get("/staff/registry?ubn=12345678")
    assert response.status_code == 422
    assert "統一編號" in _error_of(text_of(response), "f-ubn")


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"ubn": "12345678"}, "f-ubn"),
        ({"ubn": "1234"}, "f-ubn"),
        ({"name": ""}, "f-name"),
        ({"name": "名" * 61}, "f-name"),
        ({"address": "地" * 101}, "f-address"),
        ({"status": "open"}, "f-status"),
    ],
)
def test_a_wrong_record_is_refused_next_to_its_field(staff, form: dict[str, str], field: str) -> None:
    record = {"ubn": random_ubn(), "name": "範例商行", "address": "臺北市", "status": "active", **form}
    response = staff.post("/staff/registry/new", record)
    assert response.status_code == 422
    page = text_of(response)
    assert _error_of(page, field), page
    assert 'aria-invalid="true"' in page
    # what was typed is kept, so it can be corrected
    assert f'value="{record["ubn"]}"' in page


def test_a_new_record_does_not_replace_one_already_registered(staff) -> None:
    ubn = random_ubn()
    assert _register(staff, ubn, "原有商號").status_code == 303
    again = _register(staff, ubn, "冒用名稱")
    assert again.status_code == 422 and "已有此統一編號" in text_of(again)
    assert "原有商號" in text_of(staff.get(f"/staff/registry/{ubn}"))


def test_staff_edit_a_business(staff, client, staff_headers) -> None:
    ubn = random_ubn()
    _register(staff, ubn, "舊名稱")
    saved = staff.post(
        f"/staff/registry/{ubn}", {"name": "新名稱", "address": "新竹市東區光復路二段101號", "status": "suspended"}
    )
    assert saved.status_code == 303 and saved.headers["Location"] == f"/staff/registry/{ubn}?saved=1"
    record = body_of(client.http.get(f"/v1/admin/tax-registry/{ubn}", headers=staff_headers))
    assert (record["name"], record["address"], record["status"]) == ("新名稱", "新竹市東區光復路二段101號", "suspended")
    page = text_of(staff.get(f"/staff/registry/{ubn}"))
    assert "停業" in page and "僅稅籍狀態為營業中" in page  # a suspended business gets no account

    refused = staff.post(f"/staff/registry/{ubn}", {"name": " ", "address": "", "status": "active"})
    assert refused.status_code == 422
    assert _error_of(text_of(refused), "f-name")
    assert body_of(client.http.get(f"/v1/admin/tax-registry/{ubn}", headers=staff_headers))["name"] == "新名稱"


def test_an_unknown_business_is_not_found(staff) -> None:
    assert staff.get(f"/staff/registry/{random_ubn()}").status_code == 404
    assert (
        staff.post(f"/staff/registry/{random_ubn()}", {"name": "x", "address": "", "status": "active"}).status_code
        == 404
    )
    assert staff.get("/staff/registry/12345678").status_code == 400


# --- the initial password -------------------------------------------------------------------------


def test_the_initial_password_is_shown_once_and_signs_the_merchant_in(staff, console: Console) -> None:
    ubn = random_ubn()
    _register(staff, ubn, "首次帳號商行")
    issued = staff.post(f"/staff/registry/{ubn}/credentials", {})
    assert issued.status_code == 200
    page = text_of(issued)
    password = re.search(r'id="initial-password"[^>]*>([^<]+)<', page)
    assert password, page
    initial = password.group(1).strip()
    assert "只顯示這一次" in page and ubn in page and "/login" in page and "新密碼" in page
    assert issued.headers["Cache-Control"] == "no-store"

    # The merchant signs in with it and must choose a new password first.
    signed = console.post("/login", {"ubn": ubn, "password": initial})
    assert signed.status_code == 303 and signed.headers["Location"] == "/console/password"

    # The business's page now says so, and never shows the password again.
    detail = text_of(staff.get(f"/staff/registry/{ubn}"))
    assert initial not in detail and "待啟用" in detail
    again = staff.post(f"/staff/registry/{ubn}/credentials", {})
    assert again.status_code == 422 and "已有平台帳號" in text_of(again) and initial not in text_of(again)


def test_no_initial_password_for_a_business_not_active(staff) -> None:
    ubn = random_ubn()
    _register(staff, ubn, "歇業商行", status="closed")
    refused = staff.post(f"/staff/registry/{ubn}/credentials", {})
    assert refused.status_code == 422 and "非營業中" in text_of(refused)
    assert 'id="initial-password"' not in text_of(refused)
    assert staff.post(f"/staff/registry/{random_ubn()}/credentials", {}).status_code == 404


# --- the CSV import ----------------------------------------------------------------------------------

HEADER = "營業地址,統一編號,總機構統一編號,營業人名稱,資本額,設立日期,組織別名稱,使用統一發票"


def test_the_import_page_shows_the_expected_layout_with_an_example(staff) -> None:
    page = text_of(staff.get("/staff/registry/import"))
    for column in ("統一編號", "總機構統一編號", "營業人名稱", "營業地址"):
        assert f"<code>{column}</code>" in page
    assert "10-APR-23" in page and 'enctype="multipart/form-data"' in page
    assert '<label for="f-file">' in page


def test_an_import_reports_each_row(staff, client) -> None:
    good, other = random_ubn(), random_ubn()
    rows = [
        HEADER,
        "10-APR-23,,,,,,,",
        f'"臺南市中西區民生路一段1號",{good},,"府城商行, 有限公司",100000,0950101,有限公司,Y',
        f'"高雄市苓雅區四維三路2號",{other},,"港都小吃",0,1000101,獨資,Y',
        '"某地",24634103,,"檢查碼錯",0,1000101,獨資,Y',
        f'"某地",{random_ubn()},,"",0,1000101,獨資,Y',
    ]
    response = _upload(staff, "/staff/registry/import", {"status": ""}, "BGMOPEN1.csv", "\r\n".join(rows).encode())
    assert response.status_code == 200, text_of(response)
    page = text_of(response)
    assert re.search(r"已匯入 <strong>2</strong>", page) and re.search(r"未匯入 <strong>2</strong>", page)
    assert "統一編號檢查碼錯誤" in page and "營業人名稱空白" in page
    assert re.search(r'<td class="num">5</td><td>24634103</td>', page), "the line of the bad row"
    assert f'href="/staff/registry/{good}"' in page and "府城商行, 有限公司" in page
    assert "10-APR-23" in page
    assert body_of(client.http.get(f"/v1/lookup/ubn/{other}"))["registered"] is True


def test_an_import_may_give_every_record_a_status(staff, client) -> None:
    ubn = random_ubn()
    data = f'{HEADER}\r\n"某地",{ubn},,"停業中商號",0,1000101,獨資,Y\r\n'.encode()
    response = _upload(staff, "/staff/registry/import", {"status": "suspended"}, "x.csv", data)
    assert response.status_code == 200
    assert body_of(client.http.get(f"/v1/lookup/ubn/{ubn}"))["status"] == "suspended"


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"name,ubn\r\nfoo,24634102\r\n", "缺少欄位"), ("營業地址,統一編號".encode("big5"), "UTF-8")],
)
def test_a_file_that_cannot_be_imported_is_explained_next_to_the_file_field(staff, data: bytes, expected: str) -> None:
    response = _upload(staff, "/staff/registry/import", {"status": ""}, "bad.csv", data)
    assert response.status_code == 422
    assert expected in _error_of(text_of(response), "f-file")


def test_an_import_without_a_file_asks_for_one(staff) -> None:
    response = staff.post("/staff/registry/import", {"status": ""})
    assert response.status_code == 422 and _error_of(text_of(response), "f-file")


# --- allocations (配號) -----------------------------------------------------------------------------


def test_staff_allocate_a_range_and_see_it_listed(staff, new_merchant, client) -> None:
    merchant = new_merchant()
    track, begin = random_track(), random_begin(2)
    response = _allocate(staff, merchant.ubn, track.lower(), begin, booklets=2)  # typed in lower case
    assert response.status_code == 303, text_of(response)
    page = text_of(staff.get(response.headers["Location"]))
    assert "已配號" in page and f"{track}{begin:08d}–{track}{begin + 99:08d}" in page and merchant.ubn in page
    assert re.search(r'<td class="num">2</td>', page), "two booklets"
    # The merchant sees the range as theirs.
    tracks = body_of(client.http.get("/v1/tracks", headers=merchant.headers))["items"]
    assert [(t["track"], t["begin_no"]) for t in tracks] == [(track, f"{begin:08d}")]
    # Listed for the period and track across merchants too.
    listed = text_of(staff.get(f"/staff/allocations?period={_current().code}&track={track}"))
    assert f'href="/staff/registry/{merchant.ubn}"' in listed and f"{track}{begin:08d}" in listed


def test_an_overlapping_range_is_refused_next_to_the_first_number(staff, new_merchant) -> None:
    first, second = new_merchant(), new_merchant()
    track, begin = random_track(), random_begin(4)
    assert _allocate(staff, first.ubn, track, begin, booklets=2).status_code == 303
    refused = _allocate(staff, second.ubn, track, begin + 50, booklets=2)
    assert refused.status_code == 422
    page = text_of(refused)
    assert "已經配號" in _error_of(page, "f-begin_no")
    assert f'value="{second.ubn}"' in page  # the form keeps what was typed
    listed = text_of(staff.get(f"/staff/allocations?period={_current().code}&ubn={second.ubn}"))
    assert f"{track}{begin + 50:08d}" not in listed


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"track": "A1"}, "f-track"),
        ({"begin_no": "00000010"}, "f-begin_no"),
        ({"end_no": "00000010"}, "f-end_no"),
        ({"period": "11411"}, "f-period"),
        ({"invoice_type": "05"}, "f-invoice_type"),
        ({"ubn": ""}, "f-ubn"),
    ],
)
def test_a_wrong_allocation_is_refused_next_to_its_field(staff, new_merchant, overrides, field) -> None:
    merchant = new_merchant()
    response = _allocate(staff, merchant.ubn, random_track(), random_begin(1), overrides=overrides)
    assert response.status_code == 422
    assert _error_of(text_of(response), field), text_of(response)


def test_numbers_go_only_to_an_active_business(staff) -> None:
    ubn = random_ubn()
    _register(staff, ubn, "停業商號", status="suspended")
    response = _allocate(staff, ubn, random_track(), random_begin(1))
    assert response.status_code == 422 and "營業中" in _error_of(text_of(response), "f-ubn")


def test_a_wrong_list_filter_is_shown_next_to_it(staff) -> None:
    response = staff.get("/staff/allocations?period=11413")
    assert response.status_code == 422
    assert _error_of(text_of(response), "f-list-period")


# --- period jobs -------------------------------------------------------------------------------------


def test_the_jobs_of_the_last_period_are_listed_with_their_state(staff) -> None:
    page = text_of(staff.get("/staff/jobs"))
    assert f'value="{_current().previous().code}"' in page
    for job in ("close", "blank_reminder", "return_reminder", "overdue"):
        assert f'action="/staff/jobs/{job}"' in page


def test_staff_run_a_job_and_read_its_report(staff, client, new_merchant) -> None:
    address = f"job-{secrets.token_hex(4)}@example.com"
    merchant = new_merchant(email=address)
    code = last_code_sent_to(client, address)
    verified = post_json(client, "/v1/merchant/receivers/verify", {"channel": "email", "code": code}, merchant.headers)
    assert verified.status_code == 200  # notices go to a verified address only
    # A long-past period of its own, so that no other test has run this job for it; the merchant has
    # been on the platform since before it (a return is due only from a merchant's first period on).
    period = Period(secrets.randbelow(80) + 20, 2 * (secrets.randbelow(6) + 1))
    DynamoMerchants().update_profile(merchant.ubn, {"created_at": "1930-01-01T00:00:00+08:00"})
    before = text_of(staff.get(f"/staff/jobs?period={period.code}"))
    assert "尚未執行" in before
    response = staff.post("/staff/jobs/return_reminder", {"period": period.code})
    while "請再執行一次" in text_of(response):  # the run's time ran out: the next one goes on
        response = staff.post("/staff/jobs/return_reminder", {"period": period.code})
    assert response.status_code == 200
    page = text_of(response)
    assert "申報提醒" in page and "已完成。" in page
    merchants = int(re.search(r"已處理營業人</dt><dd>(\d+)<", page).group(1))
    notified = int(re.search(r"已寄送通知</dt><dd>(\d+)<", page).group(1))
    assert merchants >= 1 and 1 <= notified <= merchants  # at least the merchant with an address
    # Run again: nothing more is sent.
    again = text_of(staff.post("/staff/jobs/return_reminder", {"period": period.code}))
    assert re.search(r"已寄送通知</dt><dd>(\d+)<", again).group(1) == str(notified)
    assert "再執行" in text_of(staff.get(f"/staff/jobs?period={period.code}"))


def test_a_job_for_a_period_not_ended_is_refused_next_to_the_period(staff) -> None:
    response = staff.post("/staff/jobs/close", {"period": _current().code})
    assert response.status_code == 422
    assert _current().last_day.isoformat() in _error_of(text_of(response), "f-period")
    wrong = staff.post("/staff/jobs/close", {"period": "11413"})
    assert wrong.status_code == 422 and _error_of(text_of(wrong), "f-period")
    assert staff.post("/staff/jobs/everything", {"period": "11402"}).status_code == 400


# --- English ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "english", "chinese"),
    [
        ("/staff", "Tax office", "稽徵機關"),
        ("/staff/registry", "Find by UBN", "以統一編號查詢"),
        ("/staff/registry/new", "Business name", "營業人名稱"),
        ("/staff/registry/import", "Expected layout", "檔案格式"),
        ("/staff/allocations", "Allocate a range", "新增配號"),
        ("/staff/jobs", "Period close", "期末結算"),
    ],
)
def test_english_pages_have_english_labels(staff, path: str, english: str, chinese: str) -> None:
    page = text_of(staff.get(f"{path}?lang=en"))
    assert english in page and chinese not in page


def test_an_english_business_page_and_its_errors(staff) -> None:
    ubn = random_ubn()
    _register(staff, ubn, "English Shop")
    staff.get("/staff?lang=en")
    page = text_of(staff.get(f"/staff/registry/{ubn}"))
    assert "Platform account" in page and "Issue initial password" in page and "Registration status" in page
    refused = staff.post(f"/staff/registry/{ubn}", {"name": "", "address": "", "status": "active"})
    assert refused.status_code == 422 and re.search(r"[A-Za-z]", _error_of(text_of(refused), "f-name"))
    assert "此欄位" not in _error_of(text_of(refused), "f-name")
