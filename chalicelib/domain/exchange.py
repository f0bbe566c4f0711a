"""B2B exchange (交換): a document one merchant sends another, and the counterpart's answers.

On the MOF platform a business that set its receiving method (營業人接收方式設定) to exchange gets
the B2B invoices issued to it in its to-do list (待辦事項) and answers each one: it confirms it
(A0102 接收確認) or rejects it with a reason (A0301 退回), which the seller confirms (A0302). A
cancel (A0201 作廢) of an exchanged invoice counts only once the buyer confirms it (A0202).

This module is the state machine alone, pure, and parametrised by a ``Flow`` (which step is which
message), so the allowance side (B0101 → B0102, B0201 → B0202; no reject there) reuses it with
its own messages and without the steps it does not have.

States (of one exchanged document)::

    awaiting_buyer ──confirm (A0102, buyer)──────────────▶ confirmed
        │  └──reject (A0301, buyer)──▶ rejected ──confirm-reject (A0302, seller)──▶ rejection_confirmed
        │                                                                │
        └──────────cancel (A0201, seller)──▶ cancel_requested ◀───────────┘ (from confirmed too)
                                                   └──confirm-cancel (A0202, buyer)──▶ cancelled

A cancel is allowed before the buyer answered as well as after it confirmed: an invoice issued in
error need not be confirmed first to be withdrawn. Once a cancel is asked for, the buyer can only
confirm it (the MIG has no message that refuses a cancel).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.errors import Conflict, Forbidden, RuleViolation
from chalicelib.domain.merchant import MerchantProfile


class ExchangeState(StrEnum):
    AWAITING_BUYER = "awaiting_buyer"
    """待確認: sent, the buyer has not answered."""
    CONFIRMED = "confirmed"
    """已確認: the buyer confirmed receipt (A0102); it counts on the buyer's input side."""
    REJECTED = "rejected"
    """已退回: the buyer refused it (A0301); counts nowhere; the seller is to confirm (A0302)."""
    REJECTION_CONFIRMED = "rejection_confirmed"
    """退回已確認: the seller confirmed the rejection. Settled."""
    CANCEL_REQUESTED = "cancel_requested"
    """作廢待確認: the seller asked to cancel (A0201); it still counts until the buyer confirms."""
    CANCELLED = "cancelled"
    """作廢已確認: the buyer confirmed the cancel (A0202). Settled."""


class Party(StrEnum):
    SELLER = "seller"
    BUYER = "buyer"


class ExchangeAction(StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"
    CONFIRM_REJECT = "confirm-reject"
    CANCEL = "cancel"
    CONFIRM_CANCEL = "confirm-cancel"


#: What each state is called (zh-TW, English), for the API's labels and the console.
STATE_LABELS: Mapping[ExchangeState, tuple[str, str]] = {
    ExchangeState.AWAITING_BUYER: ("待買方確認", "Awaiting the buyer"),
    ExchangeState.CONFIRMED: ("買方已確認", "Confirmed by the buyer"),
    ExchangeState.REJECTED: ("買方已退回，待賣方確認", "Rejected by the buyer, awaiting the seller"),
    ExchangeState.REJECTION_CONFIRMED: ("退回已確認", "Rejection confirmed"),
    ExchangeState.CANCEL_REQUESTED: ("作廢待買方確認", "Cancel awaiting the buyer"),
    ExchangeState.CANCELLED: ("作廢已確認", "Cancel confirmed"),
}

ACTION_LABELS: Mapping[ExchangeAction, tuple[str, str]] = {
    ExchangeAction.CONFIRM: ("確認收受", "Confirm receipt"),
    ExchangeAction.REJECT: ("退回", "Reject"),
    ExchangeAction.CONFIRM_REJECT: ("確認退回", "Confirm the rejection"),
    ExchangeAction.CANCEL: ("作廢", "Cancel"),
    ExchangeAction.CONFIRM_CANCEL: ("確認作廢", "Confirm the cancel"),
}

#: Who answers next in each open state; a settled state waits on no one.
WAITING_ON: Mapping[ExchangeState, Party] = {
    ExchangeState.AWAITING_BUYER: Party.BUYER,
    ExchangeState.REJECTED: Party.SELLER,
    ExchangeState.CANCEL_REQUESTED: Party.BUYER,
}

#: How long the counterpart has to answer. ⚠️ unverified: the reference (§1.5) gives B2B invoices
#: 7 days to be uploaded "and the buyer must have received it", but states no deadline for the
#: exchange confirmations themselves; 7 days from each request is the reading that never asks a
#: party for more than the upload rule allows. Nothing happens on its own when it passes: the
#: to-do list shows it overdue (an automatic confirmation would decide for the buyer).
ANSWER_WITHIN = timedelta(days=7)


@dataclass(frozen=True)
class Step:
    """One answer: who may give it, from which states, to which state, as which MIG message."""

    action: ExchangeAction
    party: Party
    sources: frozenset[ExchangeState]
    target: ExchangeState
    message: str


@dataclass(frozen=True)
class Flow:
    """The messages of one kind of exchanged document; a step it lacks (an allowance has no reject)
    is refused as not possible for it."""

    kind: str
    issue_message: str
    messages: Mapping[ExchangeAction, str]

    def step(self, action: ExchangeAction) -> Step | None:
        message = self.messages.get(action)
        if message is None:
            return None
        party, sources, target = _STEPS[action]
        return Step(action, party, sources, target, message)

    def steps(self) -> list[Step]:
        return [step for action in ExchangeAction if (step := self.step(action)) is not None]

    def all_messages(self) -> tuple[str, ...]:
        return (self.issue_message, *self.messages.values())


_STEPS: Mapping[ExchangeAction, tuple[Party, frozenset[ExchangeState], ExchangeState]] = {
    ExchangeAction.CONFIRM: (Party.BUYER, frozenset({ExchangeState.AWAITING_BUYER}), ExchangeState.CONFIRMED),
    ExchangeAction.REJECT: (Party.BUYER, frozenset({ExchangeState.AWAITING_BUYER}), ExchangeState.REJECTED),
    ExchangeAction.CONFIRM_REJECT: (
        Party.SELLER,
        frozenset({ExchangeState.REJECTED}),
        ExchangeState.REJECTION_CONFIRMED,
    ),
    ExchangeAction.CANCEL: (
        Party.SELLER,
        frozenset({ExchangeState.AWAITING_BUYER, ExchangeState.CONFIRMED}),
        ExchangeState.CANCEL_REQUESTED,
    ),
    ExchangeAction.CONFIRM_CANCEL: (Party.BUYER, frozenset({ExchangeState.CANCEL_REQUESTED}), ExchangeState.CANCELLED),
}

INVOICE_FLOW = Flow(
    kind="invoice",
    issue_message="A0101",
    messages={
        ExchangeAction.CONFIRM: "A0102",
        ExchangeAction.REJECT: "A0301",
        ExchangeAction.CONFIRM_REJECT: "A0302",
        ExchangeAction.CANCEL: "A0201",
        ExchangeAction.CONFIRM_CANCEL: "A0202",
    },
)


def decide(flow: Flow, state: ExchangeState, action: ExchangeAction, party: Party) -> Step:
    """The step ``party`` takes by ``action`` from ``state``; refused (named) when it may not."""
    step = flow.step(action)
    if step is None:
        raise Conflict(
            "EXCHANGE_STEP_NOT_POSSIBLE",
            f"A {flow.kind} exchange has no {action.value} step.",
            f"交換{_KIND_ZH.get(flow.kind, flow.kind)}沒有「{ACTION_LABELS[action][0]}」這個步驟。",
            "action",
        )
    if step.party is not party:
        who, who_zh = ("the buyer", "買方") if step.party is Party.BUYER else ("the seller", "賣方")
        raise Forbidden(
            "EXCHANGE_NOT_YOUR_STEP",
            f"Only {who} may {action.value.replace('-', ' ')} this exchange.",
            f"僅{who_zh}可「{ACTION_LABELS[action][0]}」。",
            "action",
        )
    if state not in step.sources:
        zh, en = STATE_LABELS[state]
        raise Conflict(
            "EXCHANGE_STATE_CONFLICT",
            f"Cannot {action.value.replace('-', ' ')}: the exchange is {en.lower()}.",
            f"無法「{ACTION_LABELS[action][0]}」：此交換狀態為「{zh}」。",
            "state",
        )
    return step


_KIND_ZH = {"invoice": "發票", "allowance": "折讓證明單"}


def actions_for(flow: Flow, state: ExchangeState, party: Party) -> list[ExchangeAction]:
    """What ``party`` may do now (the console's buttons, the API's ``actions``)."""
    return [s.action for s in flow.steps() if s.party is party and state in s.sources]


def is_open(state: ExchangeState) -> bool:
    return state in WAITING_ON


def answer_deadline(asked_at: datetime) -> datetime:
    return asked_at + ANSWER_WITHIN


class ExchangeRecord(BaseModel):
    """The exchange state kept on the exchanged document (the invoice's ``exchange`` field).

    ``messages`` holds each message that exists for it, by type, with what it carried (``at`` is
    the message's own date and time; ``reason``, ``remark``… as given), so every message can be
    built again exactly: A0101 from the invoice itself, the answers from these entries."""

    model_config = ConfigDict(extra="ignore")

    state: ExchangeState = ExchangeState.AWAITING_BUYER
    flow: str = "invoice"
    #: When the party now waited on must answer by (Taiwan time); None once settled.
    deadline: str | None = None
    updated_at: str | None = None
    messages: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @property
    def confirmed(self) -> bool:
        """The buyer confirmed receipt at some point (it then counts on the buyer's input side)."""
        return INVOICE_FLOW.messages[ExchangeAction.CONFIRM] in self.messages

    @property
    def waiting_on(self) -> Party | None:
        return WAITING_ON.get(self.state)


def counts_for_buyer(status: str, exchange: ExchangeRecord | None) -> bool:
    """Whether an invoice is on the buyer's input side (進項): issued and, when exchanged, confirmed
    by the buyer (an unanswered or rejected one is not the buyer's purchase). The seller's side
    needs no rule of its own: a rejected invoice's status is ``rejected`` and a confirmed cancel's
    ``cancelled``, so "issued" alone says it counts."""
    return status == "issued" and (exchange is None or exchange.confirmed)


_ID = re.compile(r"([0-9]{8})-([A-Z]{2}[0-9]{8})")


def exchange_id(seller_ubn: str, invoice_number: str) -> str:
    """The stable id of an exchanged invoice, the same for both parties: ``<seller UBN>-<number>``
    (a number is unique only within its seller's allocation)."""
    return f"{seller_ubn}-{invoice_number}"


def parse_exchange_id(value: str) -> tuple[str, str] | None:
    """``(seller UBN, invoice number)``, or None when ``value`` names no exchanged invoice."""
    match = _ID.fullmatch(value)
    return (match.group(1), match.group(2)) if match else None


class ExchangeTask(BaseModel):
    """One exchange still open, as a party's to-do list (待辦事項) shows it: kept for each party
    while someone is to answer, written with every state change in the same transaction."""

    model_config = ConfigDict(extra="ignore")

    id: str
    kind: str = "invoice"
    role: Party
    state: ExchangeState
    waiting_on: Party
    deadline: str
    seller_ubn: str
    seller_name: str
    buyer_ubn: str
    buyer_name: str
    invoice_number: str
    invoice_date: str
    total_amount: int
    updated_at: str


def ensure_can_exchange(
    *,
    seller_ubn: str,
    buyer_ubn: str | None,
    buyer: MerchantProfile | None,
    has_carrier: bool,
    printed: bool,
) -> None:
    """What issuing for exchange (``exchange: true``, A0101) needs: a business buyer that is a
    merchant of this platform and receives by exchange (the MOF platform issues exchange invoices
    only to buyers who set a receiving method, reference §8), and nothing a consumer invoice has."""
    if not buyer_ubn:
        raise RuleViolation(
            "EXCHANGE_NEEDS_BUYER_UBN",
            "Only a B2B invoice (a buyer with a UBN) can be issued for exchange.",
            "僅開立予營業人（有統一編號）的發票可交換。",
            "buyer.ubn",
        )
    if buyer_ubn == seller_ubn:
        raise RuleViolation(
            "EXCHANGE_WITH_SELF",
            "An invoice to your own UBN cannot be exchanged: there is no counterpart to confirm it.",
            "買受人為自己的統一編號時不可交換，沒有對方可確認。",
            "buyer.ubn",
        )
    if buyer is None or buyer.status != "active":
        raise RuleViolation(
            "EXCHANGE_BUYER_NOT_ON_PLATFORM",
            f"{buyer_ubn} is not a merchant of this platform, so it cannot receive by exchange; "
            "issue the invoice without exchange (storage).",
            f"{buyer_ubn} 不是本平台的營業人，無法以交換方式接收；請以存證方式開立（不勾選交換）。",
            "buyer.ubn",
        )
    if not buyer.settings.receives_by_exchange:
        raise RuleViolation(
            "EXCHANGE_NOT_BUYERS_METHOD",
            f"{buyer_ubn} receives B2B invoices by storage (存證), not by exchange; issue it without exchange.",
            f"{buyer_ubn} 的發票接收方式為存證，非交換；請以存證方式開立（不勾選交換）。",
            "exchange",
        )
    if has_carrier:
        raise RuleViolation(
            "EXCHANGE_WITH_CARRIER",
            "An exchanged invoice reaches its buyer through the platform; it has no carrier (A0101 has none).",
            "交換發票經平台交付買方，不使用載具（A0101 無載具欄位）。",
            "carrier",
        )
    if printed:
        raise RuleViolation(
            "EXCHANGE_PRINTED",
            "An exchanged invoice reaches its buyer through the platform; set print to false.",
            "交換發票經平台交付買方，不列印證明聯，print 須為 false。",
            "print",
        )
