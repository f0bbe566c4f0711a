"""Every MIG message the platform writes validates against the MOF's official MIG 4.1 XSDs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from lxml import etree

from chalicelib.documents.mig import MESSAGE_CLASSES, build_xml, message_class
from chalicelib.documents.mig.schema import SCHEMA_CONTENT, SCHEMA_FORMAT, check_e0501, check_message, schema_for
from chalicelib.domain.errors import DomainError, InvalidInput
from chalicelib.domain.invoice_type import InvoiceType
from chalicelib.domain.tax import taxable_rate
from tests.unit.documents.fixtures.mig_factories import MESSAGES, SAMPLES

EXAMPLES = 200  # documents generated per message type
SCHEMA_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _assert_valid(message: Any) -> None:
    schema = schema_for(str(message.message_type))
    document = etree.fromstring(build_xml(message))
    assert schema.validate(document), str(schema.error_log)


@pytest.mark.parametrize("message_type", sorted(MESSAGES))
def test_generated_documents_of_every_type_validate(message_type: str) -> None:
    @SCHEMA_SETTINGS
    @given(MESSAGES[message_type])
    def check(message: Any) -> None:
        _assert_valid(message)

    check()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_validates(name: str) -> None:
    cls, data = SAMPLES[name]
    _assert_valid(cls.model_validate(data()))


def _sample_f0401() -> bytes:
    cls, data = SAMPLES["F0401"]
    return build_xml(cls.model_validate(data())).replace(b"><", b">\n<")


def test_every_written_type_has_a_schema() -> None:
    assert {str(t) for t in MESSAGE_CLASSES} == set(MESSAGES)
    for message_type in MESSAGE_CLASSES:
        assert message_class(message_type)
        assert schema_for(str(message_type)) is schema_for(str(message_type))  # compiled once


def test_an_unexpected_element_is_a_format_error_naming_element_and_line() -> None:
    xml = _sample_f0401().replace(b"<Name>", b"<Nam>", 1).replace(b"</Name>", b"</Nam>", 1)
    line = xml[: xml.index(b"<Nam>")].count(b"\n") + 1
    with pytest.raises(InvalidInput) as caught:
        check_message("F0401", xml)
    assert caught.value.code == SCHEMA_FORMAT
    assert caught.value.field == "Main.Seller.Nam"
    assert f"line {line}" in caught.value.message
    assert f"第 {line} 行" in caught.value.message_zh


def test_a_value_outside_its_pattern_is_a_content_error() -> None:
    xml = _sample_f0401()
    start = xml.index(b"<InvoiceNumber>") + len(b"<InvoiceNumber>")
    end = xml.index(b"</InvoiceNumber>")
    xml = xml[:start] + b"ab1" + xml[end:]
    with pytest.raises(InvalidInput) as caught:
        check_message("F0401", xml)
    assert caught.value.code == SCHEMA_CONTENT
    assert caught.value.field == "Main.InvoiceNumber"
    assert "line " in caught.value.message


E0501_OFFICIAL = b"""<?xml version="1.0" encoding="UTF-8"?>
<InvoiceAssignNo xmlns="urn:GEINV:E0501:4.0">
  <Ban>24634102</Ban>
  <InvoiceType>07</InvoiceType>
  <YearMonth>11312</YearMonth>
  <InvoiceTrack>AB</InvoiceTrack>
  <InvoiceBeginNo>10001050</InvoiceBeginNo>
  <InvoiceEndNo>10002099</InvoiceEndNo>
  <InvoiceBooklet>21</InvoiceBooklet>
</InvoiceAssignNo>
"""


def test_e0501_in_the_xsd_namespace_validates_and_a_bad_period_is_refused() -> None:
    check_e0501(E0501_OFFICIAL)
    with pytest.raises(InvalidInput) as caught:
        check_e0501(E0501_OFFICIAL.replace(b"11312", b"11311"))  # periods end on an even month
    assert caught.value.code == SCHEMA_CONTENT
    assert caught.value.field == "InvoiceAssignNo[0].YearMonth"
    assert "line 5" in caught.value.message


def test_a_special_tax_rate_outside_the_xsd_enumeration_is_refused_before_any_f0401() -> None:
    # TaxRateEnum of GenericType_4.0.xsd: 0, 0.01, 0.02, 0.05, 0.15, 0.25 (no 0.001).
    with pytest.raises(DomainError) as caught:
        taxable_rate(InvoiceType.SPECIAL, Decimal("0.001"))
    assert caught.value.code == "INVALID_SPECIAL_TAX_RATE"
    for rate in ("0.01", "0.02", "0.05", "0.15", "0.25"):
        assert taxable_rate(InvoiceType.SPECIAL, Decimal(rate)) == Decimal(rate)
