"""The exchange state machine (domain/exchange.py) for both kinds of document: an invoice's steps
each belong to a fixed party; an allowance's to its issuer or to the other party, whoever issued it."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import Conflict, Forbidden
from chalicelib.domain.exchange import (
    ALLOWANCE_FLOW,
    INVOICE_FLOW,
    ExchangeAction,
    ExchangeRecord,
    ExchangeState,
    Party,
    actions_for,
    decide,
    is_open,
)

A, S = ExchangeAction, ExchangeState
SELLER, BUYER = Party.SELLER, Party.BUYER


def test_an_invoice_waits_on_its_buyer_and_its_seller_may_only_cancel():
    assert actions_for(INVOICE_FLOW, S.AWAITING_BUYER, BUYER) == [A.CONFIRM, A.REJECT]
    assert actions_for(INVOICE_FLOW, S.AWAITING_BUYER, SELLER) == [A.CANCEL]
    assert actions_for(INVOICE_FLOW, S.REJECTED, SELLER) == [A.CONFIRM_REJECT]
    assert decide(INVOICE_FLOW, S.CANCEL_REQUESTED, A.CONFIRM_CANCEL, BUYER).message == "A0202"
    assert ExchangeRecord(state=S.REJECTED).waiting_on is SELLER


@pytest.mark.parametrize(("issuer", "counterpart"), [(SELLER, BUYER), (BUYER, SELLER)])
def test_an_allowance_is_confirmed_by_whoever_did_not_issue_it(issuer, counterpart):
    pending = S.AWAITING_COUNTERPART
    assert actions_for(ALLOWANCE_FLOW, pending, counterpart, issuer) == [A.CONFIRM]
    assert actions_for(ALLOWANCE_FLOW, pending, issuer, issuer) == [A.CANCEL]
    assert actions_for(ALLOWANCE_FLOW, S.CANCEL_REQUESTED, counterpart, issuer) == [A.CONFIRM_CANCEL]
    assert actions_for(ALLOWANCE_FLOW, S.CANCEL_REQUESTED, issuer, issuer) == []
    assert decide(ALLOWANCE_FLOW, pending, A.CONFIRM, counterpart, issuer).target is S.CONFIRMED
    with pytest.raises(Forbidden):
        decide(ALLOWANCE_FLOW, pending, A.CONFIRM, issuer, issuer)
    with pytest.raises(Forbidden):
        decide(ALLOWANCE_FLOW, S.CONFIRMED, A.CANCEL, counterpart, issuer)
    record = ExchangeRecord(state=pending, flow="allowance", issuer=issuer)
    assert record.waiting_on is counterpart and is_open(pending) and not record.confirmed


def test_an_allowance_has_no_reject_and_settles_once_its_cancel_is_confirmed():
    with pytest.raises(Conflict) as refused:
        decide(ALLOWANCE_FLOW, S.AWAITING_COUNTERPART, A.REJECT, BUYER, SELLER)
    assert refused.value.code == "EXCHANGE_STEP_NOT_POSSIBLE"
    with pytest.raises(Conflict) as twice:
        decide(ALLOWANCE_FLOW, S.CONFIRMED, A.CONFIRM, BUYER, SELLER)
    assert twice.value.code == "EXCHANGE_STATE_CONFLICT"
    assert ALLOWANCE_FLOW.all_messages() == ("B0101", "B0102", "B0201", "B0202")
    assert not is_open(S.CANCELLED) and ExchangeRecord(state=S.CANCELLED, flow="allowance").waiting_on is None
    assert ALLOWANCE_FLOW.label(S.CONFIRMED) == ("對方已確認", "Confirmed by the counterpart")
    assert INVOICE_FLOW.label(S.CONFIRMED) == ("買方已確認", "Confirmed by the buyer")
