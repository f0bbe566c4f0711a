"""build -> parse -> equal, for generated valid models of every message (hypothesis)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.documents.mig import MESSAGE_CLASSES, MessageType, build_xml, parse_xml
from tests.unit.documents.fixtures.mig_factories import MESSAGES, SAMPLES

ROUNDTRIP_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _roundtrip(message: Any) -> None:
    xml = build_xml(message)
    parsed = parse_xml(message.message_type, xml)
    assert type(parsed) is type(message)
    assert parsed == message
    # Serialisation is stable: re-building the parsed model gives identical bytes.
    assert build_xml(parsed) == xml
    assert type(message).from_xml(xml) == message
    assert message.to_xml() == xml


@ROUNDTRIP_SETTINGS
@given(MESSAGES["F0401"])
def test_f0401_roundtrip(message: Any) -> None:
    _roundtrip(message)


@ROUNDTRIP_SETTINGS
@given(MESSAGES["F0501"])
def test_f0501_roundtrip(message: Any) -> None:
    _roundtrip(message)


@ROUNDTRIP_SETTINGS
@given(MESSAGES["F0701"])
def test_f0701_roundtrip(message: Any) -> None:
    _roundtrip(message)


@ROUNDTRIP_SETTINGS
@given(MESSAGES["G0401"])
def test_g0401_roundtrip(message: Any) -> None:
    _roundtrip(message)


@ROUNDTRIP_SETTINGS
@given(MESSAGES["G0501"])
def test_g0501_roundtrip(message: Any) -> None:
    _roundtrip(message)


@ROUNDTRIP_SETTINGS
@given(MESSAGES["E0401"])
def test_e0401_roundtrip(message: Any) -> None:
    _roundtrip(message)


@ROUNDTRIP_SETTINGS
@given(MESSAGES["E0402"])
def test_e0402_roundtrip(message: Any) -> None:
    _roundtrip(message)


@ROUNDTRIP_SETTINGS
@given(MESSAGES["E0504"])
def test_e0504_roundtrip(message: Any) -> None:
    _roundtrip(message)


@ROUNDTRIP_SETTINGS
@given(MESSAGES["E0502"])
def test_e0502_roundtrip(message: Any) -> None:
    _roundtrip(message)


@ROUNDTRIP_SETTINGS
@given(MESSAGES["E0503"])
def test_e0503_roundtrip(message: Any) -> None:
    _roundtrip(message)


@pytest.mark.parametrize("code", list(SAMPLES))
def test_sample_roundtrip(code: str) -> None:
    cls, sample = SAMPLES[code]
    _roundtrip(cls.from_data(sample()))


def test_every_message_type_has_a_model_and_a_strategy() -> None:
    assert set(MESSAGE_CLASSES) == set(MessageType)
    assert {str(code) for code in MessageType} == set(MESSAGES) == set(SAMPLES)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(sorted(MESSAGES)).flatmap(lambda code: MESSAGES[code]))
def test_parse_never_accepts_another_message_type(message: Any) -> None:
    xml = build_xml(message)
    for other in MessageType:
        if other is message.message_type:
            continue
        with pytest.raises(Exception) as caught:
            parse_xml(other, xml)
        assert caught.value.code in ("MIG_XML_ROOT", "MIG_XML_NAMESPACE")  # type: ignore[attr-defined]
