"""Purchase lists (進項存證清冊) of a period: the MOF's E0502 (received invoices) and E0503 (received
allowances) lists as XML in their InvoiceEnvelope, and the same lists as CSV.

The merchant is the verified caller's; the period is the only thing a request names, so a merchant
only ever downloads what was issued to its own UBN.
"""

from __future__ import annotations

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api import deps
from chalicelib.api.errors import file_response
from chalicelib.api.routing import operation
from chalicelib.services.principal import Principal
from chalicelib.services.purchase_lists import ALLOWANCES, INVOICES, PER_FILE, PurchaseFile

bp = Blueprint(__name__)
TAG = "Purchase lists"

_XML_NOTE = (
    "An `InvoiceEnvelope` (urn:GEINV:InvoiceEnvelope:4.1) whose `InvoicePack` holds one {root} "
    "({code}, urn:GEINV:eInvoiceMessage:{code}:4.1) per {what} dated in the period, oldest first; the "
    "envelope and every document validate against the MOF's official MIG 4.1 schemas. Cancelled ones are "
    "listed too, with their `Cancel` part; one voided and re-issued (註銷重開) carries its last `Void`. "
    f"A file holds at most {PER_FILE} documents: `X-List-Parts` says how many files the list has, "
    "`part` chooses one. A period with nothing is 404 `NOTHING_RECEIVED` (field `period`); a period "
    "that is not a 5-digit code ending in an even month is 400 `INVALID_PERIOD`."
)
_CSV_NOTE = (
    "UTF-8 with a BOM (Excel opens it as Unicode), one header row naming each column in zh-TW and "
    "English (`發票號碼 / Invoice number`), then one row per {what}, oldest first, cancelled ones "
    "included with their cancellation date and reason. Amounts are decimal strings. A text cell that "
    "would start a spreadsheet formula is written with a leading `'`. An empty period gives the header "
    "row alone."
)


class PurchaseListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    part: int = Field(default=1, ge=1, le=10_000, description=f"Which file of the list ({PER_FILE} documents each)")


def _download(file: PurchaseFile) -> Response:
    headers = {"X-List-Count": str(file.count), "X-List-Part": str(file.part), "X-List-Parts": str(file.parts)}
    return file_response(file.content, file.filename, file.media_type, headers=headers)


@operation(
    bp,
    "/v1/purchase-lists/{period}/invoices.xml",
    summary="E0502 營業人進項存證發票檔: the invoices other merchants issued to you in a period, as MIG 4.1 XML",
    description=_XML_NOTE.format(root="InputInvoice", code="E0502", what="received invoice"),
    tag=TAG,
    query=PurchaseListQuery,
    auth="merchant",
    scope="invoices:read",
    response_content_type="application/xml",
    errors=(400, 404),
)
def invoices_xml(period: str, query: PurchaseListQuery, principal: Principal) -> Response:
    return _download(deps.purchase_lists().xml(principal.ubn, period, INVOICES, query.part))


@operation(
    bp,
    "/v1/purchase-lists/{period}/invoices.csv",
    summary="The received invoices (進項發票) of a period as CSV, one row per invoice",
    description=_CSV_NOTE.format(what="invoice"),
    tag=TAG,
    auth="merchant",
    scope="invoices:read",
    response_content_type="text/csv",
    errors=(400,),
)
def invoices_csv(period: str, principal: Principal) -> Response:
    return _download(deps.purchase_lists().csv(principal.ubn, period, INVOICES))


@operation(
    bp,
    "/v1/purchase-lists/{period}/allowances.xml",
    summary="E0503 營業人進項存證折讓單檔: the allowances other merchants issued to you in a period, as MIG 4.1 XML",
    description=_XML_NOTE.format(root="InputAllowance", code="E0503", what="received allowance"),
    tag=TAG,
    query=PurchaseListQuery,
    auth="merchant",
    scope="allowances:read",
    response_content_type="application/xml",
    errors=(400, 404),
)
def allowances_xml(period: str, query: PurchaseListQuery, principal: Principal) -> Response:
    return _download(deps.purchase_lists().xml(principal.ubn, period, ALLOWANCES, query.part))


@operation(
    bp,
    "/v1/purchase-lists/{period}/allowances.csv",
    summary="The received allowances (進項折讓) of a period as CSV, one row per allowance",
    description=_CSV_NOTE.format(what="allowance"),
    tag=TAG,
    auth="merchant",
    scope="allowances:read",
    response_content_type="text/csv",
    errors=(400,),
)
def allowances_csv(period: str, principal: Principal) -> Response:
    return _download(deps.purchase_lists().csv(principal.ubn, period, ALLOWANCES))
