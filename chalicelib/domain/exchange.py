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

An allowance (折讓證明單) by exchange may be issued by either party (B0101 AllowanceType 2 賣方折讓證明
通知單 by the seller, 1 買方開立折讓證明單 by the buyer), so its steps name a ``Role`` (the issuer,
the counterpart) where the invoice's name a ``Party``; ``decide`` resolves a role with the
document's issuer. Its flow (``ALLOWANCE_FLOW``) has no reject::

    awaiting_counterpart ──confirm (B0102, counterpart)──▶ confirmed
        └──────cancel (B0201, issuer)──▶ cancel_requested ◀──┘
                                            └──confirm-cancel (B0202, counterpart)──▶ cancelled
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
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
    AWAITING_COUNTERPART = "awaiting_counterpart"
    """待對方確認: an allowance sent (B0101) that the party which did not issue it has not confirmed."""


class Party(StrEnum):
    SELLER = "seller"
    BUYER = "buyer"


class Role(StrEnum):
    """Who takes a step relative to the document, where either party may issue it (an allowance)."""

    ISSUER = "issuer"
    COUNTERPART = "counterpart"


#: Who takes a step: a party fixed by the flow (an invoice's steps), or a role the document's
#: issuer resolves (an allowance's).
Actor = Party | Role


def other(party: Party) -> Party:
    return Party.BUYER if party is Party.SELLER else Party.SELLER


def resolve(actor: Actor, issuer: Party) -> Party:
    """The party an actor is on a document ``issuer`` issued."""
    if isinstance(actor, Party):
        return actor
    return issuer if actor is Role.ISSUER else other(issuer)


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
    ExchangeState.AWAITING_COUNTERPART: ("待對方確認", "Awaiting the counterpart"),
}

ACTION_LABELS: Mapping[ExchangeAction, tuple[str, str]] = {
    ExchangeAction.CONFIRM: ("確認收受", "Confirm receipt"),
    ExchangeAction.REJECT: ("退回", "Reject"),
    ExchangeAction.CONFIRM_REJECT: ("確認退回", "Confirm the rejection"),
    ExchangeAction.CANCEL: ("作廢", "Cancel"),
    ExchangeAction.CONFIRM_CANCEL: ("確認作廢", "Confirm the cancel"),
}

#: Who answers next in each open state of an invoice; a settled state waits on no one.
WAITING_ON: Mapping[ExchangeState, Party] = {
    ExchangeState.AWAITING_BUYER: Party.BUYER,
    ExchangeState.REJECTED: Party.SELLER,
    ExchangeState.CANCEL_REQUESTED: Party.BUYER,
}
#: The states someone is to answer in, whatever the flow.
OPEN_STATES = frozenset({*WAITING_ON, ExchangeState.AWAITING_COUNTERPART})

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
    party: Actor
    sources: frozenset[ExchangeState]
    target: ExchangeState
    message: str


StepTable = Mapping[ExchangeAction, tuple[Actor, frozenset[ExchangeState], ExchangeState]]


@dataclass(frozen=True)
class Flow:
    """The messages of one kind of exchanged document; a step it lacks (an allowance has no reject)
    is refused as not possible for it. ``table`` (who, from which states, to which state) and
    ``waiting`` (who answers next) default to the invoice's; ``labels`` override a state's name."""

    kind: str
    issue_message: str
    messages: Mapping[ExchangeAction, str]
    table: StepTable | None = None
    waiting: Mapping[ExchangeState, Actor] | None = None
    labels: Mapping[ExchangeState, tuple[str, str]] = field(default_factory=dict)
    first_state: ExchangeState = ExchangeState.AWAITING_BUYER

    def step(self, action: ExchangeAction) -> Step | None:
        message = self.messages.get(action)
        if message is None:
            return None
        party, sources, target = (self.table or _STEPS)[action]
        return Step(action, party, sources, target, message)

    def steps(self) -> list[Step]:
        return [step for action in ExchangeAction if (step := self.step(action)) is not None]

    def all_messages(self) -> tuple[str, ...]:
        return (self.issue_message, *self.messages.values())

    def waiting_on(self, state: ExchangeState, issuer: Party = Party.SELLER) -> Party | None:
        actor = (self.waiting if self.waiting is not None else WAITING_ON).get(state)
        return None if actor is None else resolve(actor, issuer)

    def label(self, state: ExchangeState) -> tuple[str, str]:
        """(zh-TW, English) name of ``state`` in this flow."""
        return self.labels.get(state) or STATE_LABELS[state]


_STEPS: StepTable = {
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

_AWAITING = ExchangeState.AWAITING_COUNTERPART
ALLOWANCE_FLOW = Flow(
    kind="allowance",
    issue_message="B0101",
    messages={
        ExchangeAction.CONFIRM: "B0102",
        ExchangeAction.CANCEL: "B0201",
        ExchangeAction.CONFIRM_CANCEL: "B0202",
    },
    table={
        ExchangeAction.CONFIRM: (Role.COUNTERPART, frozenset({_AWAITING}), ExchangeState.CONFIRMED),
        # As an invoice's: a pending allowance may be withdrawn before it is confirmed, too.
        ExchangeAction.CANCEL: (
            Role.ISSUER,
            frozenset({_AWAITING, ExchangeState.CONFIRMED}),
            ExchangeState.CANCEL_REQUESTED,
        ),
        ExchangeAction.CONFIRM_CANCEL: (
            Role.COUNTERPART,
            frozenset({ExchangeState.CANCEL_REQUESTED}),
            ExchangeState.CANCELLED,
        ),
    },
    waiting={_AWAITING: Role.COUNTERPART, ExchangeState.CANCEL_REQUESTED: Role.COUNTERPART},
    labels={
        ExchangeState.CONFIRMED: ("對方已確認", "Confirmed by the counterpart"),
        ExchangeState.CANCEL_REQUESTED: ("作廢待對方確認", "Cancel awaiting the counterpart"),
    },
    first_state=_AWAITING,
)

FLOWS: Mapping[str, Flow] = {flow.kind: flow for flow in (INVOICE_FLOW, ALLOWANCE_FLOW)}


def decide(
    flow: Flow, state: ExchangeState, action: ExchangeAction, party: Party, issuer: Party = Party.SELLER
) -> Step:
    """The step ``party`` takes by ``action`` from ``state`` of a document ``issuer`` issued;
    refused (named) when it may not."""
    step = flow.step(action)
    if step is None:
        raise Conflict(
            "EXCHANGE_STEP_NOT_POSSIBLE",
            f"A {flow.kind} exchange has no {action.value} step.",
            f"交換{_KIND_ZH.get(flow.kind, flow.kind)}沒有「{ACTION_LABELS[action][0]}」這個步驟。",
            "action",
        )
    if resolve(step.party, issuer) is not party:
        who, who_zh = _WHO[step.party]
        raise Forbidden(
            "EXCHANGE_NOT_YOUR_STEP",
            f"Only {who} may {action.value.replace('-', ' ')} this exchange.",
            f"僅{who_zh}可「{ACTION_LABELS[action][0]}」。",
            "action",
        )
    if state not in step.sources:
        zh, en = flow.label(state)
        raise Conflict(
            "EXCHANGE_STATE_CONFLICT",
            f"Cannot {action.value.replace('-', ' ')}: the exchange is {en.lower()}.",
            f"無法「{ACTION_LABELS[action][0]}」：此交換狀態為「{zh}」。",
            "state",
        )
    return step


_KIND_ZH = {"invoice": "發票", "allowance": "折讓證明單"}
_WHO: Mapping[Actor, tuple[str, str]] = {
    Party.BUYER: ("the buyer", "買方"),
    Party.SELLER: ("the seller", "賣方"),
    Role.ISSUER: ("the party that issued it", "開立方"),
    Role.COUNTERPART: ("the party that did not issue it", "非開立之一方（對方）"),
}


def actions_for(flow: Flow, state: ExchangeState, party: Party, issuer: Party = Party.SELLER) -> list[ExchangeAction]:
    """What ``party`` may do now (the console's buttons, the API's ``actions``)."""
    return [s.action for s in flow.steps() if resolve(s.party, issuer) is party and state in s.sources]


def is_open(state: ExchangeState) -> bool:
    return state in OPEN_STATES


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
    #: Who issued the document: always the seller for an invoice; either for an allowance.
    issuer: Party = Party.SELLER
    #: When the party now waited on must answer by (Taiwan time); None once settled.
    deadline: str | None = None
    updated_at: str | None = None
    messages: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @property
    def confirmed(self) -> bool:
        """The counterpart confirmed receipt at some point (an invoice then counts on the buyer's
        input side; an allowance on both)."""
        return FLOWS[self.flow].messages[ExchangeAction.CONFIRM] in self.messages

    @property
    def waiting_on(self) -> Party | None:
        return FLOWS[self.flow].waiting_on(self.state, self.issuer)

    def after(self, step: Step, entry: Mapping[str, Any], now: datetime) -> ExchangeRecord:
        """The state ``step`` leads to, its message kept with what it carried (``entry``), and
        the next deadline while someone is still to answer."""
        return self.model_copy(
            update={
                "state": step.target,
                "deadline": answer_deadline(now).isoformat() if is_open(step.target) else None,
                "updated_at": now.isoformat(),
                "messages": {**self.messages, step.message: dict(entry)},
            }
        )


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
    # An allowance's entry (``kind`` allowance): its number and who issued it; ``invoice_*`` then
    # name the invoice it reduces and ``total_amount`` is the allowance's, tax included.
    allowance_number: str | None = None
    issuer: Party | None = None


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
