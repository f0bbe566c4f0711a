"""The invoice lottery (中獎): staff load a period's winners (E0504 or the drawn numbers) and correct
a wrong load by replacing the numbers; merchants list theirs with what to do, print the winning proof
and mark it delivered."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api import deps
from chalicelib.api.errors import json_response
from chalicelib.api.invoices import DownloadLink, link_response
from chalicelib.api.routing import operation
from chalicelib.domain.errors import NotFound
from chalicelib.domain.lottery import PeriodNumbers, WinningNumbers, prize_mark, prize_name
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
    "withdrawn_at": None,
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
    status: str = Field(
        default="",
        description="to_deliver, delivered, nothing_to_deliver, or withdrawn (corrected numbers: it no longer wins)",
    )
    buyer_mailed: bool = False
    source: str = Field(default="", description="numbers or e0504")
    loaded_at: str = ""
    delivered_at: str | None = None
    delivered_by: str | None = None
    withdrawn_at: str | None = None
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


class PrizeCount(BaseModel):
    prize: str = ""
    prize_name: str = ""
    prize_name_zh: str = ""
    prize_amount: str = Field(default="0", description="NT$, a decimal string")
    count: int = 0


class PrizeTypeMeaning(BaseModel):
    code: str = Field(default="", description="The E0504 PrizeType code as the file gives it")
    prize: str = ""
    prize_name: str = ""
    prize_name_zh: str = ""


class WinnerChange(BaseModel):
    ubn: str = ""
    invoice_number: str = ""
    prize: str = Field(default="", description="The prize now (withdrawn: the prize it no longer wins)")
    prize_amount: str = "0"
    previous_prize: str | None = Field(default=None, description="revised: the prize before, or withdrawn")


_REPORT_EXAMPLE: dict[str, Any] = {
    "period": "11412",
    "source": "numbers",
    "numbers_version": 2,
    "replaced": True,
    "recorded": 1,
    "already_recorded": 0,
    "candidates_read": 12,
    "by_prize": [
        {"prize": "sixth", "prize_name": "Sixth prize", "prize_name_zh": "六獎", "prize_amount": "200", "count": 1}
    ],
    "winners": [{"ubn": "24634102", "invoice_number": "AB12345678", "prize": "sixth", "prize_amount": "200"}],
    "withdrawn": [
        {
            "ubn": "24634102",
            "invoice_number": "AB12345001",
            "prize": "sixth",
            "prize_amount": "200",
            "previous_prize": None,
        }
    ],
    "revised": [],
    "kept": 3,
    "changed_meanwhile": [],
    "prize_types": [],
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
    numbers_version: int | None = Field(default=None, description="The period's numbers' version after this load")
    replaced: bool = Field(default=False, description="Whether this load replaced the period's earlier numbers")
    recorded: int = Field(default=0, description="Winners recorded (and told) by this load")
    already_recorded: int = Field(default=0, description="Winners an earlier load recorded: not told again")
    candidates_read: int = Field(default=0, description="Invoices read by key to find them")
    by_prize: list[PrizeCount] = Field(default_factory=list, description="Winners found, per prize")
    winners: list[dict[str, str]] = Field(default_factory=list, description="Winners recorded by this load")
    withdrawn: list[WinnerChange] = Field(default_factory=list, description="Replacement: winners that no longer win")
    revised: list[WinnerChange] = Field(
        default_factory=list, description="Replacement: winners of another prize now, or winning again"
    )
    kept: int = Field(default=0, description="Replacement: winners of the same prize, left as they are")
    changed_meanwhile: list[str] = Field(
        default_factory=list, description="Replacement: winners delivered meanwhile, left as they are"
    )
    prize_types: list[PrizeTypeMeaning] = Field(
        default_factory=list, description="E0504: what each PrizeType code of the file stands for (by its amounts)"
    )
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


def _named(prize: Any) -> dict[str, str]:
    zh, en = prize_name(prize)
    return {"prize": prize.value, "prize_name": en, "prize_name_zh": zh}


def report_body(report: LoadReport) -> dict[str, Any]:
    return LotteryLoadReport(
        period=report.period,
        source=report.source,
        numbers_version=report.numbers_version,
        replaced=report.replaced,
        recorded=len(report.recorded),
        already_recorded=report.already_recorded,
        candidates_read=report.candidates_read,
        by_prize=[
            PrizeCount(**_named(prize), prize_amount=str(amount), count=count)
            for prize, amount, count in report.by_prize()
        ],
        withdrawn=[
            WinnerChange(
                ubn=w.ubn, invoice_number=w.invoice_number, prize=w.prize.value, prize_amount=str(w.prize_amount)
            )
            for w in report.withdrawn
        ],
        revised=[
            WinnerChange(
                ubn=after.ubn,
                invoice_number=after.invoice_number,
                prize=after.prize.value,
                prize_amount=str(after.prize_amount),
                previous_prize="withdrawn" if before.status == "withdrawn" else before.prize.value,
            )
            for before, after in report.revised
        ],
        kept=report.kept,
        changed_meanwhile=report.changed_meanwhile,
        prize_types=[
            PrizeTypeMeaning(code=code, **_named(prize)) for code, prize in sorted(report.prize_types.items())
        ],
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


def load_numbers(period: str, body: WinningNumbersRequest, actor: str, *, replace: bool = False) -> LoadReport:
    """The drawn numbers (a first load, or a replacement), for these routes and the tax office's page."""
    numbers = WinningNumbers.parse(body.special, body.grand, body.first, body.extra_sixth)
    service = deps.lottery_service()
    if replace:
        return service.replace_numbers(period_of(period), numbers, actor=actor)
    return service.load_numbers(period_of(period), numbers, actor=actor)


_NUMBERS_EXAMPLE: dict[str, Any] = {
    "period": "11412",
    "special": "12345678",
    "grand": "87654321",
    "first": ["11112222", "33334444", "55556666"],
    "extra_sixth": ["777"],
    "version": 1,
    "loaded_at": "2026-01-25T14:00:00+08:00",
    "loaded_by": "staff:officer",
}


class PeriodWinningNumbers(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_NUMBERS_EXAMPLE]})

    period: str = ""
    special: str = ""
    grand: str = ""
    first: list[str] = Field(default_factory=list)
    extra_sixth: list[str] = Field(default_factory=list)
    version: int = Field(default=0, description="1 for the first load, one more per replacement")
    loaded_at: str = ""
    loaded_by: str = ""


def stored_numbers(period: str) -> PeriodNumbers:
    found = deps.lottery_service().numbers(period_of(period))
    if found is None:
        raise NotFound("NO_WINNING_NUMBERS", "This period has no winning numbers yet", "此期別尚未載入中獎號碼")
    return found


@operation(
    bp,
    "/v1/admin/lottery/{period}",
    "POST",
    summary="Load the MOF's winning-invoice list (E0504 中獎清冊) of a period",
    description="Validated against the official E0504.xsd first (a 400 names the element and the line). "
    "Every row's PrizeType must agree with its PrizeAmount: rows giving one code two amounts are refused "
    "(422 PRIZE_TYPE_MISMATCH naming the row; the prize is read from the amount, the codes being "
    "unverified). Loading the same list again records and notifies nothing twice; listed invoices that "
    "cannot win (cancelled, B2B, unknown) are reported as refused.",
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
    description="The first load stores the numbers; the same numbers again record only what is missing "
    "(nobody is told twice). Other numbers for a period that has some are refused (409 "
    "WINNING_NUMBERS_DIFFER): correct a wrong load with PUT, which replaces them.",
    tag=STAFF_TAG,
    body=WinningNumbersRequest,
    response=LotteryLoadReport,
    auth="staff",
    errors=(400, 409, 422),
)
def load_winning_numbers(period: str, body: WinningNumbersRequest, principal: Principal) -> Response:
    return json_response(report_body(load_numbers(period, body, principal.actor)))


@operation(
    bp,
    "/v1/admin/lottery/{period}/numbers",
    "PUT",
    summary="Correct a period's winning numbers: replace them, and its winners follow",
    description="Winners that no longer win are withdrawn (history entry, `invoice.win_withdrawn`, the "
    "buyer told where the win was mailed); winners of another prize are revised; the others keep their "
    "delivered state. Refused as a whole (409 PRIZE_DELIVERED, nothing written) if it would withdraw or "
    "change the prize of a winner whose proof was delivered. Winners from the MOF's E0504 are never "
    "touched. With no numbers stored yet it is a first load.",
    tag=STAFF_TAG,
    body=WinningNumbersRequest,
    response=LotteryLoadReport,
    auth="staff",
    errors=(400, 409, 422),
)
def replace_winning_numbers(period: str, body: WinningNumbersRequest, principal: Principal) -> Response:
    return json_response(report_body(load_numbers(period, body, principal.actor, replace=True)))


@operation(
    bp,
    "/v1/admin/lottery/{period}/numbers",
    summary="A period's winning numbers as loaded (and their version)",
    tag=STAFF_TAG,
    response=PeriodWinningNumbers,
    auth="staff",
    errors=(400, 404),
)
def get_winning_numbers(period: str, principal: Principal) -> PeriodWinningNumbers:
    return PeriodWinningNumbers(**stored_numbers(period).model_dump())


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
