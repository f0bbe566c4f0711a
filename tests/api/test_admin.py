"""Tax-office staff keep the tax registry (稅籍登記) and issue accounts (API.md "Tax office staff")."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import boto3
import pytest

from infra import manage
from tests.api.conftest import (
    MERCHANT_PASSWORD,
    STAFF_USERNAME,
    body_of,
    post_json,
    random_ubn,
    register_business,
)

HEADER = (
    "營業地址,統一編號,總機構統一編號,營業人名稱,資本額,設立日期,組織別名稱,使用統一發票,"
    "行業代號,名稱,行業代號1,名稱1,行業代號2,名稱2,行業代號3,名稱3"
)
SUSPENDED_HEADER = HEADER.replace("組織別名稱,", "組織別名稱,停業日期,")
STAMP = "10-APR-23" + "," * 15


def csv_row(ubn: str, name: str, head: str = "", address: str = "臺北市中正區重慶南路一段2號") -> str:
    return f'"{address}",{ubn},{head},"{name}",1000000,0780101,獨資,Y,561112,飲料店,,,,,,'


def registry_csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\ufeff" + "\r\n".join((header, STAMP, *rows)) + "\r\n").encode()


def put_record(client, headers, ubn, **overrides):
    record = {"name": "範例商行", "address": "臺北市中正區重慶南路一段2號", "status": "active", **overrides}
    response = client.http.put(
        f"/v1/admin/tax-registry/{ubn}",
        headers={"Content-Type": "application/json", **headers},
        body=json.dumps(record),
    )
    return response.status_code, body_of(response)


def import_csv(client, headers, data: bytes, query: str = ""):
    response = client.http.post(
        f"/v1/admin/tax-registry/import{query}",
        headers={"Content-Type": "text/csv; charset=utf-8", **headers},
        body=data,
    )
    return response.status_code, body_of(response)


def lookup(client, ubn):
    return body_of(client.http.get(f"/v1/lookup/ubn/{ubn}"))


def issue(client, headers, ubn):
    response = post_json(client, f"/v1/admin/merchants/{ubn}/credentials", {}, headers)
    return response, body_of(response)


def assert_error(body, code):
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    assert body["error"]["message_zh"]


# --- the registry record ---------------------------------------------------------------------


def test_staff_register_a_business_and_read_it_back(client, staff_headers):
    ubn = random_ubn()
    status, body = put_record(client, staff_headers, ubn, name="  範例商行  ")
    assert status == 200
    assert body["ubn"] == ubn
    assert body["name"] == "範例商行"
    assert body["status"] == "active"
    assert body["updated_by"] == f"staff:{STAFF_USERNAME}"
    assert body["updated_at"]

    got = client.http.get(f"/v1/admin/tax-registry/{ubn}", headers=staff_headers)
    assert got.status_code == 200
    assert body_of(got) == body
    assert lookup(client, ubn) == {
        "ubn": ubn,
        "valid": True,
        "registered": True,
        "name": "範例商行",
        "status": "active",
    }


def test_putting_the_same_record_again_changes_nothing_and_a_change_is_recorded(client, staff_headers):
    ubn = random_ubn()
    _, first = put_record(client, staff_headers, ubn)
    _, again = put_record(client, staff_headers, ubn)
    assert again == first  # idempotent: updated_at still says when it last really changed

    status, changed = put_record(client, staff_headers, ubn, status="suspended", address="新址")
    assert status == 200
    assert changed["status"] == "suspended"
    assert changed["address"] == "新址"
    assert changed["updated_at"] >= first["updated_at"]
    assert lookup(client, ubn)["status"] == "suspended"


def test_a_registered_active_business_may_then_sign_up(client, staff_headers):
    ubn = random_ubn()
    put_record(client, staff_headers, ubn, name="開業商行")
    response, issued = issue(client, staff_headers, ubn)
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    assert issued["ubn"] == ubn
    assert issued["name"] == "開業商行"
    assert issued["must_change_password"] is True
    assert len(issued["initial_password"]) >= 12
    assert issued["notice"] and issued["notice_zh"]

    activated = post_json(
        client,
        "/v1/registrations/account",
        {"ubn": ubn, "initial_password": issued["initial_password"], "new_password": MERCHANT_PASSWORD},
    )
    assert activated.status_code == 201, activated.body
    login = post_json(client, "/v1/auth/login", {"ubn": ubn, "password": MERCHANT_PASSWORD})
    assert login.status_code == 200


@pytest.mark.parametrize("ubn", ["24634103", "1234567", "abcdefgh", "246341020"])
def test_a_ubn_with_a_wrong_check_digit_or_shape_is_refused(client, staff_headers, ubn):
    status, body = put_record(client, staff_headers, ubn)
    assert status == 400
    assert_error(body, "INVALID_UBN")
    assert client.http.get(f"/v1/admin/tax-registry/{ubn}", headers=staff_headers).status_code == 400
    response, body = issue(client, staff_headers, ubn)
    assert response.status_code == 400
    assert_error(body, "INVALID_UBN")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "名" * 61}, "name"),
        ({"address": "址" * 101}, "address"),
        ({"status": "open"}, "status"),
        ({"status": None}, "status"),
        ({"owner": "x"}, "owner"),
    ],
)
def test_invalid_records_are_refused_naming_the_field(client, staff_headers, overrides, field):
    status, body = put_record(client, staff_headers, random_ubn(), **overrides)
    assert status == 400
    assert body["error"]["field"] == field
    assert body["error"]["message_zh"]


def test_malformed_json_is_a_400_not_a_500(client, staff_headers):
    response = client.http.put(
        f"/v1/admin/tax-registry/{random_ubn()}",
        headers={"Content-Type": "application/json", **staff_headers},
        body="{not json",
    )
    assert response.status_code == 400


def test_an_unknown_ubn_is_not_found(client, staff_headers):
    response = client.http.get(f"/v1/admin/tax-registry/{random_ubn()}", headers=staff_headers)
    assert response.status_code == 404
    assert_error(body_of(response), "NOT_IN_TAX_REGISTRY")


def test_staff_writes_are_audited_under_the_staff_member(client, staff_headers, local_aws):
    ubn = random_ubn()
    put_record(client, staff_headers, ubn)
    issue(client, staff_headers, ubn)
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=local_aws.environment()["AWS_ENDPOINT_URL_DYNAMODB"],
        region_name="ap-northeast-1",
    )
    items = dynamodb.query(
        TableName="einvoice-local-merchants",
        KeyConditionExpression="pk = :pk AND begins_with(sk, :audit)",
        ExpressionAttributeValues={":pk": {"S": f"STAFF#{STAFF_USERNAME}"}, ":audit": {"S": "AUDIT#"}},
    )["Items"]
    events = {(i["event"]["S"], i["detail"]["M"].get("ubn", {}).get("S")) for i in items}
    assert ("tax_registry_updated", ubn) in events
    assert ("merchant_credentials_issued", ubn) in events


# --- issuing accounts ------------------------------------------------------------------------


def test_credentials_for_an_unregistered_ubn_are_refused(client, staff_headers):
    response, body = issue(client, staff_headers, random_ubn())
    assert response.status_code == 422
    assert_error(body, "NOT_IN_TAX_REGISTRY")


@pytest.mark.parametrize("status", ["suspended", "closed"])
def test_credentials_for_a_business_not_active_are_refused(client, staff_headers, status):
    ubn = random_ubn()
    register_business(client, staff_headers, ubn, status=status)
    response, body = issue(client, staff_headers, ubn)
    assert response.status_code == 422
    assert_error(body, "BUSINESS_NOT_ACTIVE")


def test_credentials_are_issued_once(client, staff_headers):
    ubn = random_ubn()
    register_business(client, staff_headers, ubn)
    first, _ = issue(client, staff_headers, ubn)
    second, body = issue(client, staff_headers, ubn)
    assert first.status_code == 201
    assert second.status_code == 409
    assert_error(body, "MERCHANT_EXISTS")


# --- importing the MOF extract ---------------------------------------------------------------


def test_an_imported_extract_registers_its_businesses(client, staff_headers):
    head, other, branch_head = random_ubn(), random_ubn(), random_ubn()
    data = registry_csv(
        csv_row(head, "分公司列", head=branch_head, address="分公司地址"),
        csv_row(head, "總公司, 股份有限公司", address="總公司地址"),
        csv_row(other, "另一商號"),
        csv_row("24634103", "檢查碼錯誤"),
    )
    status, body = import_csv(client, staff_headers, data)
    assert status == 200, body
    assert body["imported"] == 2
    assert body["rejected"] == 1
    assert body["rejected_rows"] == [
        {
            "line": 6,
            "ubn": "24634103",
            "reason": "The UBN's check digit is wrong",
            "reason_zh": "統一編號檢查碼錯誤",
        }
    ]
    assert body["duplicate_rows"] == 1
    assert body["stamp"] == "10-APR-23"
    assert body["stamp_date"] == "2023-04-10"
    assert body["status"] == "active"

    assert lookup(client, head) | {"ubn": head} == {
        "ubn": head,
        "valid": True,
        "registered": True,
        "name": "總公司, 股份有限公司",
        "status": "active",
    }
    assert lookup(client, other)["registered"] is True
    assert lookup(client, "24634103")["registered"] is False
    record = body_of(client.http.get(f"/v1/admin/tax-registry/{head}", headers=staff_headers))
    assert record["address"] == "總公司地址"
    assert record["source"] == "import"

    # An imported active business may sign up.
    response, _ = issue(client, staff_headers, other)
    assert response.status_code == 201


def test_a_large_import_is_written_in_batches(client, staff_headers):
    ubns = sorted({random_ubn() for _ in range(130)})
    status, body = import_csv(client, staff_headers, registry_csv(*(csv_row(u, f"商號{u}") for u in ubns)))
    assert status == 200
    assert body["imported"] == len(ubns)
    assert all(lookup(client, u)["registered"] for u in ubns[::13])


def test_the_suspended_extract_marks_businesses_suspended_and_they_may_not_sign_up(client, staff_headers):
    ubn = random_ubn()
    register_business(client, staff_headers, ubn)
    row = f"臺中市西區民權路99號,{ubn},,停業商行,500000,0950301,有限公司,1120301,N,561112,飲料店,,,,,,"
    status, body = import_csv(client, staff_headers, registry_csv(row, header=SUSPENDED_HEADER))
    assert status == 200, body
    assert body["status"] == "suspended"
    assert lookup(client, ubn)["status"] == "suspended"
    response, refused = issue(client, staff_headers, ubn)
    assert response.status_code == 422
    assert_error(refused, "BUSINESS_NOT_ACTIVE")


def test_the_status_query_overrides_the_status_of_every_imported_record(client, staff_headers):
    ubn = random_ubn()
    status, body = import_csv(client, staff_headers, registry_csv(csv_row(ubn, "歇業商行")), "?status=closed")
    assert status == 200
    assert body["status"] == "closed"
    assert lookup(client, ubn)["status"] == "closed"


@pytest.mark.parametrize(
    ("data", "query", "code"),
    [
        (b"", "", "MISSING_BODY"),
        ("營業地址,統一編號".encode("big5"), "", "INVALID_CSV_ENCODING"),
        (b"name,ubn\r\nfoo,24634102\r\n", "", "INVALID_CSV_HEADER"),
        (registry_csv('"unterminated,24634102'), "", "MALFORMED_CSV"),
    ],
)
def test_a_file_that_cannot_be_imported_is_a_400(client, staff_headers, data, query, code):
    status, body = import_csv(client, staff_headers, data, query)
    assert status == 400
    assert_error(body, code)


@pytest.mark.parametrize(("query", "field"), [("?status=open", "status"), ("?typo=1", "typo")])
def test_a_wrong_import_query_is_a_400_naming_the_parameter(client, staff_headers, query, field):
    status, body = import_csv(client, staff_headers, registry_csv(), query)
    assert status == 400
    assert body["error"]["field"] == field


def test_the_import_takes_text_csv_only(client, staff_headers):
    response = post_json(client, "/v1/admin/tax-registry/import", {"rows": []}, staff_headers)
    assert response.status_code == 415


# --- who may use these routes ----------------------------------------------------------------

ADMIN_ROUTES = [
    (
        "PUT",
        "/v1/admin/tax-registry/24634102",
        "application/json",
        b'{"name":"x","address":"","status":"active"}',
    ),
    ("GET", "/v1/admin/tax-registry/24634102", None, None),
    ("POST", "/v1/admin/tax-registry/import", "text/csv", registry_csv()),
    ("POST", "/v1/admin/merchants/24634102/credentials", "application/json", b"{}"),
]


def _call(client, route, headers):
    method, path, content_type, body = route
    all_headers = dict(headers)
    if content_type:
        all_headers["Content-Type"] = content_type
    return client.http.request(method, path, headers=all_headers, body=body or b"")


@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=lambda r: f"{r[0]} {r[1]}")
def test_a_merchant_may_not_use_staff_routes(client, new_merchant, route):
    response = _call(client, route, new_merchant().headers)
    assert response.status_code == 403
    assert_error(body_of(response), "FORBIDDEN")


@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=lambda r: f"{r[0]} {r[1]}")
def test_staff_routes_need_a_sign_in(client, route):
    assert _call(client, route, {}).status_code == 401
    assert _call(client, route, {"Authorization": "Bearer not-a-token"}).status_code == 401


# --- staff accounts, created by an operator --------------------------------------------------


def test_an_operator_creates_a_staff_account_that_can_sign_in(client):
    username = f"clerk-{random_ubn()}"
    password = "Another-staff-pass-2026"
    command = [
        sys.executable,
        "-m",
        "infra.manage",
        "create-staff",
        "--username",
        username,
        "--password-stdin",
    ]
    created = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        command, input=password + "\n", capture_output=True, text=True, env=dict(os.environ), check=False
    )
    assert created.returncode == 0, created.stderr
    assert username in created.stdout
    assert password not in created.stdout + created.stderr

    login = post_json(client, "/v1/auth/staff/login", {"username": username, "password": password})
    assert login.status_code == 200

    again = manage.main(["create-staff", "--username", username, "--password-stdin"], io.StringIO(password))
    assert again == manage.EXIT_REFUSED


@pytest.mark.parametrize(
    ("username", "password"),
    [("Bad User", "Another-staff-pass-2026"), ("clerk-weak", "123"), ("clerk-empty", "")],
)
def test_an_operator_is_told_what_is_wrong(username, password, capsys):
    status = manage.main(["create-staff", "--username", username, "--password-stdin"], io.StringIO(password))
    assert status != manage.EXIT_OK
    assert capsys.readouterr().err.strip()


# --- batch writes under throttling (the adapter, with DynamoDB's answers scripted) -----------


class ThrottlingDynamoDB:
    """Answers BatchWriteItem by leaving the first ``unprocessed`` items of a call unprocessed."""

    def __init__(self, rounds_with_leftovers: int) -> None:
        self.calls: list[list[dict]] = []
        self._rounds = rounds_with_leftovers

    def batch_write_item(self, RequestItems):  # boto3 names the parameter so
        [(table, items)] = RequestItems.items()
        self.calls.append(items)
        if len(self.calls) <= self._rounds:
            return {"UnprocessedItems": {table: items[:2]}}
        return {"UnprocessedItems": {}}


def _records(count):
    from chalicelib.domain.tax_registry import RegistrationStatus, TaxRegistration

    return [
        TaxRegistration(ubn=random_ubn(), name="商號", address="", status=RegistrationStatus.ACTIVE)
        for _ in range(count)
    ]


def test_unprocessed_items_are_sent_again_until_written(monkeypatch):
    from datetime import UTC, datetime

    from chalicelib.adapters import dynamo_tax_registry

    fake = ThrottlingDynamoDB(rounds_with_leftovers=2)
    monkeypatch.setattr(dynamo_tax_registry, "dynamodb", lambda: fake)
    pauses: list[float] = []
    registry = dynamo_tax_registry.DynamoTaxRegistry(sleep=pauses.append)

    written = registry.put_many(_records(20), "staff:officer", datetime.now(UTC))
    assert written == 20
    assert [len(call) for call in fake.calls] == [20, 2, 2]
    assert len(pauses) == 2


def test_batches_hold_at_most_25_puts_and_throttling_that_persists_fails_loudly(monkeypatch):
    from datetime import UTC, datetime

    from botocore.exceptions import ClientError

    from chalicelib.adapters import dynamo_tax_registry

    fake = ThrottlingDynamoDB(rounds_with_leftovers=10**6)
    monkeypatch.setattr(dynamo_tax_registry, "dynamodb", lambda: fake)
    registry = dynamo_tax_registry.DynamoTaxRegistry(sleep=lambda _: None)
    with pytest.raises(ClientError) as raised:
        registry.put_many(_records(60), "staff:officer", datetime.now(UTC))
    assert raised.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert max(len(call) for call in fake.calls) == dynamo_tax_registry.BATCH_SIZE
    # Batches run in parallel and the first to give up may stop the rest before they start,
    # so which sizes appear varies; full batches and resent leftovers always do.
    assert {len(call) for call in fake.calls} >= {25, 2}
