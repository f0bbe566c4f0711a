"""Tax-office staff (稽徵機關) routes: the tax registry (稅籍登記) and tax-office issued accounts.

Every route needs a staff token; a merchant's token or API key gets 403. Every write is audited
under the staff member (``STAFF#<username>``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.adapters.dynamo_tax_registry import DynamoTaxRegistry
from chalicelib.api import deps
from chalicelib.api.errors import ApiError, json_response
from chalicelib.api.routing import operation
from chalicelib.domain.fields import printable
from chalicelib.domain.tax_registry import RegistrationStatus, RegistryEntry
from chalicelib.domain.ubn import validate_ubn
from chalicelib.services.principal import Principal
from chalicelib.services.tax_registry import ImportResult, TaxRegistryService

bp = Blueprint(__name__)
TAG = "Tax office staff"

HANDOVER_NOTICE = (
    "Hand this initial password to the business in person or by registered mail; it is shown only "
    "this once. The business activates its account with it (POST /v1/registrations/account) and "
    "must choose a new password before anything else works."
)
HANDOVER_NOTICE_ZH = (
    "請將此初始密碼當面或以掛號郵件交付營業人；此密碼僅顯示這一次。營業人以此密碼啟用帳號"
    "（POST /v1/registrations/account），並須先設定新密碼才能使用其他功能。"
)


def tax_registry_service() -> TaxRegistryService:
    # Kept here rather than in deps: only this blueprint uses it.
    return deps.tax_registry_service()


class RegistryRecordRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, *printable(60, min_length=1), Field(description="營業人名稱 (registered business name)")]
    address: Annotated[str, *printable(100), Field(description="營業地址 (registered business address)")]
    status: RegistrationStatus = Field(
        description="active (營業中) may sign up; suspended (停業) and closed (歇業/註銷) may not"
    )


class ImportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A Literal rather than the enum: it documents inline as a query parameter's enum.
    status: Literal["active", "suspended", "closed"] | None = Field(
        default=None,
        description=(
            "Status for every imported record; by default active, or suspended for the 停業 extract "
            "(BGMOPEN1X, recognised by its 停業日期 column)"
        ),
    )


class InitialCredentials(BaseModel):
    ubn: str
    name: str
    initial_password: str = Field(description="Shown once; never stored in readable form")
    must_change_password: bool = True
    notice: str
    notice_zh: str


@operation(
    bp,
    "/v1/admin/tax-registry/{ubn}",
    "PUT",
    summary="Create or replace a tax registration (稅籍登記) record; only active UBNs may sign up",
    tag=TAG,
    description="Idempotent: sending the same record again changes nothing (updated_at stays).",
    body=RegistryRecordRequest,
    response=RegistryEntry,
    auth="staff",
    errors=(400, 401, 403),
)
def put_registration(ubn: str, body: RegistryRecordRequest, principal: Principal) -> RegistryEntry:
    return tax_registry_service().upsert_registration(ubn, body.name, body.address, body.status, principal=principal)


@operation(
    bp,
    "/v1/admin/tax-registry/{ubn}",
    summary="One tax registration record, with who changed it last",
    tag=TAG,
    response=RegistryEntry,
    auth="staff",
    errors=(400, 401, 403, 404),
)
def get_registration(ubn: str, principal: Principal) -> RegistryEntry:
    del principal  # any staff member may read the registry
    return tax_registry_service().get(ubn)


@operation(
    bp,
    "/v1/admin/tax-registry/import",
    "POST",
    summary="Import the MOF business registration extract (BGMOPEN1.csv) as the raw text/csv body",
    tag=TAG,
    description=(
        "The 全國營業(稅籍)登記資料集 file as published (UTF-8, BOM allowed, date-stamp second line). "
        "One record per UBN (the head-office row when branches repeat it). Rows with an invalid UBN "
        "or no name are reported in rejected_rows (first 100) and not imported; the rest are."
    ),
    query=ImportQuery,
    response=ImportResult,
    auth="staff",
    content_types=("text/csv",),
    raw_body="The MOF open-data business registration CSV (BGMOPEN1.csv; BGMOPEN1X for suspended businesses)",
    errors=(400, 401, 403, 413, 415),
)
def import_registry(query: ImportQuery, principal: Principal) -> ImportResult:
    raw = bp.current_request.raw_body
    data = raw.encode() if isinstance(raw, str) else raw
    if not data:
        raise ApiError(400, "MISSING_BODY", "Send the CSV file as the request body", "請以請求內容上傳 CSV 檔案")
    status = RegistrationStatus(query.status) if query.status else None
    return tax_registry_service().import_registry_csv(data, status, principal=principal)


@operation(
    bp,
    "/v1/admin/merchants/{ubn}/credentials",
    "POST",
    summary="Issue the account of a registered, active business with an initial password (shown once)",
    tag=TAG,
    response=InitialCredentials,
    status=201,
    auth="staff",
    errors=(400, 401, 403, 409, 422),
)
def issue_credentials(ubn: str, principal: Principal) -> Response:
    validate_ubn(ubn, "ubn")
    password = deps.registration_service().issue_initial_credentials(
        ubn, actor=principal.actor, issued_by=principal.owner
    )
    record = DynamoTaxRegistry().get(ubn)
    body = InitialCredentials(
        ubn=ubn,
        name=record.name if record else "",
        initial_password=password,
        notice=HANDOVER_NOTICE,
        notice_zh=HANDOVER_NOTICE_ZH,
    )
    # The password must not linger in a proxy or browser cache.
    return json_response(body.model_dump(mode="json"), 201, {"Cache-Control": "no-store"})
