"""The invoice lottery (中獎): staff load a period's winners (E0504 or the drawn numbers); merchants
list theirs with what to do, print the winning proof and mark it delivered."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api import deps
from chalicelib.api.errors import json_response
from chalicelib.api.invoices import DownloadLink, link_response
from chalicelib.api.routing import operation
from chalicelib.domain.lottery import WinningNumbers, prize_mark
from chalicelib.services.lottery import LoadReport, period_of, winner_view
from chalicelib.services.principal import Principal

bp = Blueprint(__name__)
TAG = "Lottery"
STAFF_TAG = "Tax office"

_WINNER_EXAMPLE: dict[str, Any] = {
    "invoice_number": "AB12345678",
    "period": "11412",
    "prize": "sixth",
    "prize_name": "Sixth prize",
    "prize_name_zh": "六獎",
    "prize_amount": "200",
    "duty": "deliver_proof",
    "what_to_do": "Member-carrier invoice: print the winning proof and deliver (or mail) it to the winner, "
    "then mark it delivered.",
    "what_to_do_zh": "會員載具發票：請列印中獎發票證明聯並交付（或寄送）給中獎人，交付後標記為已交付。",
    "status": "to_deliver",
    "buyer_mailed": True,
    "source": "numbers",
    "loaded_at": "2026-01-25T14:00:00+08:00",
    "delivered_at": None,
    "delivered_by": None,
    "history": [{"at": "2026-01-25T14:00:00+08:00", "event": "won", "actor": "staff:officer", "detail": {}}],
    "links": {
        "invoice": "/v1/invoices/AB12345678",
        "proof": "/v1/lottery/11412/AB12345678/proof",
        "delivered": "/v1/lottery/11412/AB12345678/delivered",
    },
}


class WinnerView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_WINNER_EXAMPLE]})

    invoice_number: str = ""
    period: str = ""
    prize: str = Field(default="", description="special, grand, first … sixth, extra_sixth, or other")
    prize_name: str = ""
    prize_name_zh: str = ""
    prize_amount: str = Field(default="0", description="NT$, a decimal string")
    duty: str = Field(default="", description="deliver_proof, buyer_holds_proof, public_carrier or donated")
    what_to_do: str = ""
    what_to_do_zh: str = ""
    status: str = Field(default="", description="to_deliver, delivered or nothing_to_deliver")
    buyer_mailed: bool = False
    source: str = Field(default="", description="numbers or e0504")
    loaded_at: str = ""
    delivered_at: str | None = None
    delivered_by: str | None = None
    history: list[dict[str, Any]] = Field(default_factory=list)
    links: dict[str, str] = Field(default_factory=dict)


class WinnerList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"period": "11412", "items": [_WINNER_EXAMPLE]}]})

    period: str = ""
    items: list[WinnerView] = Field(default_factory=list)


class RefusedWinner(BaseModel):
    invoice_number: str = ""
    seller_ubn: str = ""
    reason: str = Field(default="", description="not_found, cancelled, not_issued, b2b or other_period")
    message: str = ""
    message_zh: str = ""


_REPORT_EXAMPLE: dict[str, Any] = {
    "period": "11412",
    "source": "numbers",
    "recorded": 1,
    "already_recorded": 0,
    "candidates_read": 12,
    "winners": [{"ubn": "24634102", "invoice_number": "AB12345678", "prize": "sixth", "prize_amount": "200"}],
    "refused": [
        {
            "invoice_number": "AB12345444",
            "seller_ubn": "24634102",
            "reason": "cancelled",
            "message": "The invoice was cancelled: a cancelled invoice never wins.",
            "message_zh": "發票已作廢，作廢的發票不得兌獎。",
        }
    ],
}


class LotteryLoadReport(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_REPORT_EXAMPLE]})

    period: str = ""
    source: str = ""
    recorded: int = Field(default=0, description="Winners recorded (and told) by this load")
    already_recorded: int = Field(default=0, description="Winners an earlier load recorded: not told again")
    candidates_read: int = Field(default=0, description="Invoices read by key to find them")
    winners: list[dict[str, str]] = Field(default_factory=list)
    refused: list[RefusedWinner] = Field(default_factory=list)


class WinningNumbersRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "special": "12345678",
                    "grand": "87654321",
                    "first": ["11112222", "33334444", "55556666"],
                    "extra_sixth": ["777"],
                }
            ]
        },
    )

    special: str = Field(max_length=8, description="特別獎 (NT$10,000,000): 8 digits")
    grand: str = Field(max_length=8, description="特獎 (NT$2,000,000): 8 digits")
    first: list[str] = Field(max_length=3, description="頭獎 (NT$200,000): 1 to 3 numbers of 8 digits")
    extra_sixth: list[str] = Field(default_factory=list, max_length=5, description="增開六獎: numbers of 3 digits")


def report_body(report: LoadReport) -> dict[str, Any]:
    return LotteryLoadReport(
        period=report.period,
        source=report.source,
        recorded=len(report.recorded),
        already_recorded=report.already_recorded,
        candidates_read=report.candidates_read,
        winners=[
            {
                "ubn": w.ubn,
                "invoice_number": w.invoice_number,
                "prize": w.prize.value,
                "prize_amount": str(w.prize_amount),
            }
            for w in report.recorded
        ],
        refused=[RefusedWinner(**refused.view()) for refused in report.refused],
    ).model_dump(mode="json")


def load_numbers(period: str, body: WinningNumbersRequest, actor: str) -> LoadReport:
    """The drawn numbers, for this route and the tax office's page."""
    numbers = WinningNumbers.parse(body.special, body.grand, body.first, body.extra_sixth)
    return deps.lottery_service().load_numbers(period_of(period), numbers, actor=actor)


@operation(
    bp,
    "/v1/admin/lottery/{period}",
    "POST",
    summary="Load the MOF's winning-invoice list (E0504 中獎清冊) of a period",
    description="Validated against the official E0504.xsd first (a 422 names the element and the line). "
    "Loading the same list again records and notifies nothing twice; listed invoices that cannot win "
    "(cancelled, B2B, unknown) are reported as refused.",
    tag=STAFF_TAG,
    auth="staff",
    content_types=("application/xml", "text/xml"),
    raw_body="E0504 XML (Award, namespace urn:GEINV:eInvoiceMessage:E0504:4.0), one HeadBan per file",
    response=LotteryLoadReport,
    errors=(400, 422),
)
def load_e0504(period: str, principal: Principal) -> Response:
    raw = bp.current_request.raw_body or b""
    data = raw.encode() if isinstance(raw, str) else raw
    report = deps.lottery_service().load_e0504(period_of(period), data, actor=principal.actor)
    return json_response(report_body(report))


@operation(
    bp,
    "/v1/admin/lottery/{period}/numbers",
    "POST",
    summary="Enter a period's winning numbers: every merchant's B2C invoices of the period are matched",
    tag=STAFF_TAG,
    body=WinningNumbersRequest,
    response=LotteryLoadReport,
    auth="staff",
    errors=(400, 422),
)
def load_winning_numbers(period: str, body: WinningNumbersRequest, principal: Principal) -> Response:
    return json_response(report_body(load_numbers(period, body, principal.actor)))


@operation(
    bp,
    "/v1/lottery/{period}",
    summary="Your winning invoices of a period: prize, what to do, delivered or not",
    tag=TAG,
    response=WinnerList,
    auth="merchant",
    scope="invoices:read",
    errors=(400,),
)
def list_winners(period: str, principal: Principal) -> WinnerList:
    found = deps.lottery_service().winners(principal.ubn, period_of(period))
    return WinnerList(period=period, items=[WinnerView(**winner_view(w)) for w in found])


@operation(
    bp,
    "/v1/lottery/{period}/{invoice_number}/delivered",
    "POST",
    summary="Mark a winning proof delivered to the winner (again: no change)",
    tag=TAG,
    response=WinnerView,
    auth="merchant",
    scope="invoices:write",
    errors=(400, 404, 422),
)
def mark_delivered(period: str, invoice_number: str, principal: Principal) -> WinnerView:
    found = deps.lottery_service().mark_delivered(
        principal.ubn, period_of(period), invoice_number, actor=principal.actor
    )
    return WinnerView(**winner_view(found))


@operation(
    bp,
    "/v1/lottery/{period}/{invoice_number}/proof",
    summary="The winning proof (5.7 cm proof with the 中獎 mark): a redirect to a 5-minute link",
    tag=TAG,
    response=DownloadLink,
    status=302,
    auth="merchant",
    scope="invoices:read",
    errors=(400, 404, 422),
)
def winning_proof(period: str, invoice_number: str, principal: Principal) -> Response:
    return link_response(winning_proof_link(principal.ubn, period, invoice_number))


def winning_proof_link(ubn: str, period: str, invoice_number: str, *, download: bool = False) -> str:
    found, record = deps.lottery_service().proof_of(ubn, period_of(period), invoice_number)
    mark = prize_mark(found.prize, found.prize_amount)
    return deps.document_links().winning_proof(record, mark, ubn, download=download)
