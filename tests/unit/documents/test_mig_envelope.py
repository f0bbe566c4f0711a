"""The InvoiceEnvelope a list of E0502/E0503 documents travels in: valid against the official
InvoiceEnvelope.xsd, every packed document valid against its own XSD, and read back unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from chalicelib.documents.mig import Party, build_envelope, build_xml, parse_envelope
from chalicelib.documents.mig.envelope import ENVELOPE_NAMESPACE, MAX_PACKED
from chalicelib.documents.mig.schema import SCHEMA_CONTENT, schema_for
from chalicelib.domain.errors import InvalidInput
from tests.unit.documents.fixtures.mig_factories import MESSAGES, SAMPLES

PLATFORM = Party("EINVOICE", "EINVOICE")
BUYER = Party("12345675", "12345675", "買方公司")
NS = {"e": ENVELOPE_NAMESPACE}


def _sample(code: str) -> Any:
    cls, data = SAMPLES[code]
    return cls.from_data(data())


def _assert_valid(document: bytes, code: str, count: int) -> None:
    root = etree.fromstring(document)
    envelope_schema = schema_for("InvoiceEnvelope")
    assert envelope_schema.validate(root), str(envelope_schema.error_log)
    packed = root.find("e:InvoicePack", NS)
    assert packed is not None
    assert (packed.get("messageType"), packed.get("count"), packed.get("version")) == (code, str(count), "4.1")
    assert len(packed) == count
    for child in packed:
        alone = etree.fromstring(etree.tostring(child))
        schema = schema_for(code)
        assert schema.validate(alone), str(schema.error_log)


@pytest.mark.parametrize("code", ["E0502", "E0503"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_lists_validate_and_read_back(code: str, data: st.DataObject) -> None:
    messages = data.draw(st.lists(MESSAGES[code], min_size=1, max_size=4))
    document = build_envelope(messages, sender=PLATFORM, receiver=BUYER)
    _assert_valid(document, code, len(messages))
    envelope = parse_envelope(document, code)
    assert list(envelope.messages) == messages
    assert (envelope.sender.party_id, envelope.sender.routing_id) == ("EINVOICE", "EINVOICE")
    assert (envelope.receiver.party_id, envelope.receiver.routing_id) == ("12345675", "12345675")
    # Each packed document is the same XML as the message on its own.
    root = etree.fromstring(document)
    packed = root.find("e:InvoicePack", NS)
    assert packed is not None
    assert [etree.tostring(c, encoding="UTF-8") for c in packed] == [build_xml(m).split(b"\n", 1)[1] for m in messages]


def test_the_parties_come_in_the_schemas_order() -> None:
    root = etree.fromstring(build_envelope([_sample("E0502")], sender=PLATFORM, receiver=BUYER))
    assert [etree.QName(c).localname for c in root] == ["From", "FromVAC", "To", "ToVAC", "InvoicePack"]
    assert root.findtext("e:To/e:Description", namespaces=NS) == "買方公司"


@pytest.mark.parametrize("count", [0, MAX_PACKED + 1])
def test_an_envelope_holds_one_to_a_thousand(count: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        build_envelope([_sample("E0502")] * count, sender=PLATFORM, receiver=BUYER)
    assert caught.value.field == "InvoicePack"


def test_a_thousand_fit() -> None:
    document = build_envelope([_sample("E0503")] * MAX_PACKED, sender=PLATFORM, receiver=BUYER)
    _assert_valid(document, "E0503", MAX_PACKED)


def test_one_envelope_holds_one_message_type() -> None:
    with pytest.raises(InvalidInput):
        build_envelope([_sample("E0502"), _sample("E0503")], sender=PLATFORM, receiver=BUYER)


def test_a_packed_document_that_breaks_its_schema_is_refused_naming_it() -> None:
    good = build_envelope([_sample("E0502"), _sample("E0502")], sender=PLATFORM, receiver=BUYER)
    # The second document's status made two characters long: the envelope (lax) lets it through.
    first = good.index(b"<CurrentStatus>1</CurrentStatus>")
    second = good.index(b"<CurrentStatus>1</CurrentStatus>", first + 1)
    broken = (
        good[:second] + b"<CurrentStatus>12</CurrentStatus>" + good[second + len(b"<CurrentStatus>1</CurrentStatus>") :]
    )
    assert schema_for("InvoiceEnvelope").validate(etree.fromstring(broken))
    with pytest.raises(InvalidInput) as caught:
        parse_envelope(broken, "E0502")
    assert caught.value.code == SCHEMA_CONTENT
    assert caught.value.field == "InvoicePack.InputInvoice[1].Main.CurrentStatus"


def test_an_envelope_of_another_type_is_refused() -> None:
    document = build_envelope([_sample("E0503")], sender=PLATFORM, receiver=BUYER)
    with pytest.raises(InvalidInput):
        parse_envelope(document, "E0502")
