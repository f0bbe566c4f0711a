"""The exchange (交換) state machine, written out by hand: every state × answer × party."""

from __future__ import annotations

import itertools

import pytest

from chalicelib.domain.errors import Conflict, Forbidden
from chalicelib.domain.exchange import (
    INVOICE_FLOW,
    ExchangeAction,
    ExchangeRecord,
    ExchangeState,
    Flow,
    Party,
    actions_for,
    counts_for_buyer,
    decide,
    exchange_id,
    parse_exchange_id,
)

S, B = Party.SELLER, Party.BUYER
AWAITING, CONFIRMED, REJECTED = ExchangeState.AWAITING_BUYER, ExchangeState.CONFIRMED, ExchangeState.REJECTED
REJECTION_CONFIRMED, CANCEL_REQUESTED = ExchangeState.REJECTION_CONFIRMED, ExchangeState.CANCEL_REQUESTED
CANCELLED = ExchangeState.CANCELLED

# (state, action, party) -> (new state, the MIG message); every other combination is refused.
ALLOWED = {
    (AWAITING, ExchangeAction.CONFIRM, B): (CONFIRMED, "A0102"),
    (AWAITING, ExchangeAction.REJECT, B): (REJECTED, "A0301"),
    (REJECTED, ExchangeAction.CONFIRM_REJECT, S): (REJECTION_CONFIRMED, "A0302"),
    (AWAITING, ExchangeAction.CANCEL, S): (CANCEL_REQUESTED, "A0201"),
    (CONFIRMED, ExchangeAction.CANCEL, S): (CANCEL_REQUESTED, "A0201"),
    (CANCEL_REQUESTED, ExchangeAction.CONFIRM_CANCEL, B): (CANCELLED, "A0202"),
}
# Whose step each answer is, whatever the state.
OWNER = {
    ExchangeAction.CONFIRM: B,
    ExchangeAction.REJECT: B,
    ExchangeAction.CONFIRM_CANCEL: B,
    ExchangeAction.CONFIRM_REJECT: S,
    ExchangeAction.CANCEL: S,
}


@pytest.mark.parametrize(("state", "action", "party"), list(itertools.product(ExchangeState, ExchangeAction, Party)))
def test_every_answer_in_every_state_by_either_party(state, action, party):
    if (state, action, party) in ALLOWED:
        step = decide(INVOICE_FLOW, state, action, party)
        assert (step.target, step.message) == ALLOWED[(state, action, party)]
        return
    expected = Forbidden if OWNER[action] is not party else Conflict
    with pytest.raises(expected) as refused:
        decide(INVOICE_FLOW, state, action, party)
    assert refused.value.code == ("EXCHANGE_NOT_YOUR_STEP" if expected is Forbidden else "EXCHANGE_STATE_CONFLICT")
    assert refused.value.message_zh


def test_what_each_party_may_do_now():
    assert actions_for(INVOICE_FLOW, AWAITING, B) == [ExchangeAction.CONFIRM, ExchangeAction.REJECT]
    assert actions_for(INVOICE_FLOW, AWAITING, S) == [ExchangeAction.CANCEL]
    assert actions_for(INVOICE_FLOW, REJECTED, S) == [ExchangeAction.CONFIRM_REJECT]
    assert actions_for(INVOICE_FLOW, REJECTED, B) == []
    for settled in (REJECTION_CONFIRMED, CANCELLED):
        assert actions_for(INVOICE_FLOW, settled, S) == actions_for(INVOICE_FLOW, settled, B) == []


def test_a_flow_without_a_step_refuses_it():
    """The allowance side (B0101 → B0102, B0201 → B0202) has no reject: its flow leaves it out."""
    allowances = Flow(
        kind="allowance",
        issue_message="B0101",
        messages={
            ExchangeAction.CONFIRM: "B0102",
            ExchangeAction.CANCEL: "B0201",
            ExchangeAction.CONFIRM_CANCEL: "B0202",
        },
    )
    assert decide(allowances, AWAITING, ExchangeAction.CONFIRM, B).message == "B0102"
    with pytest.raises(Conflict) as refused:
        decide(allowances, AWAITING, ExchangeAction.REJECT, B)
    assert refused.value.code == "EXCHANGE_STEP_NOT_POSSIBLE"
    assert actions_for(allowances, AWAITING, B) == [ExchangeAction.CONFIRM]


def test_the_buyers_side_counts_only_a_confirmed_exchange():
    assert counts_for_buyer("issued", None)  # storage: as issued
    assert not counts_for_buyer("issued", ExchangeRecord())
    confirmed = ExchangeRecord(state=CONFIRMED, messages={"A0102": {"at": "2026-12-07T10:00:00+08:00"}})
    assert counts_for_buyer("issued", confirmed)
    assert counts_for_buyer("issued", confirmed.model_copy(update={"state": CANCEL_REQUESTED}))
    assert not counts_for_buyer("cancelled", confirmed) and not counts_for_buyer("rejected", ExchangeRecord())


def test_the_id_names_seller_and_number_and_nothing_else():
    assert exchange_id("12345675", "AB12345678") == "12345675-AB12345678"
    assert parse_exchange_id("12345675-AB12345678") == ("12345675", "AB12345678")
    for wrong in ("12345675AB12345678", "1234567-AB12345678", "12345675-ab12345678", "12345675-AB1234567", "x"):
        assert parse_exchange_id(wrong) is None
