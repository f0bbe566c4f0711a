"""Reading SES bounce notifications: only a permanent bounce of an invoice mail counts."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.mail_feedback import permanent_bounce


def _notification(**bounce_changes: object) -> dict:
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": "a@example.com", "diagnosticCode": "smtp; 550 no such user"}],
            "timestamp": "2026-12-07T03:00:00.000Z",
            "feedbackId": "0100-abc",
            **bounce_changes,
        },
        "mail": {"headers": [{"name": "x-einvoice-invoice", "value": "12345675/AB00000001"}]},
    }


def test_a_permanent_bounce_names_its_invoice():
    bounce = permanent_bounce(json.dumps(_notification()))
    assert bounce is not None
    assert (bounce.ubn, bounce.invoice_number) == ("12345675", "AB00000001")
    assert bounce.recipients == ("a@example.com",)
    assert bounce.reason == "smtp; 550 no such user"
    assert bounce.at.utcoffset() is not None


def test_transient_bounces_complaints_and_other_mail_are_not_failures():
    assert permanent_bounce(json.dumps(_notification(bounceType="Transient"))) is None
    complaint = _notification()
    complaint["notificationType"] = "Complaint"
    assert permanent_bounce(json.dumps(complaint)) is None
    foreign = _notification()
    foreign["mail"]["headers"] = [{"name": "X-Einvoice-Invoice", "value": "not/ours"}]
    assert permanent_bounce(json.dumps(foreign)) is None
    assert permanent_bounce(json.dumps(_notification(timestamp="yesterday"))) is None


@given(
    st.one_of(
        st.text(),
        st.recursive(st.none() | st.booleans() | st.text(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)),
    )
)
def test_anything_on_the_topic_is_read_without_failing(value):
    message = value if isinstance(value, str) else json.dumps(value)
    assert permanent_bounce(message) is None or permanent_bounce(message).invoice_number


def test_odd_shapes_inside_a_bounce_are_not_failures():
    odd = _notification(bouncedRecipients=7)
    odd["mail"]["headers"] = 5
    assert permanent_bounce(json.dumps(odd)) is None
