"""Incoming MIG XML is checked against the MOF's official MIG 4.1 XSDs (issue 15 item 1)."""

# ruff: noqa: F811 - fixtures imported from sibling test modules are parameters of these tests

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.period import TAIWAN_TZ, Period
from tests.api.conftest import body_of
from tests.api.test_invoices import issuer  # noqa: F401 - the issuer fixture
from tests.api.test_mig_intake import _post, _xml
from tests.api.test_tracks import _begin, _track, _tracks

# The official texts of mof-error-codes.tsv.
E0304_ZH, E0305_ZH = "XML原文格式不符", "XML原文資料內容檢核失敗"


def _pretty(xml: bytes) -> bytes:
    return xml.replace(b"><", b">\n<")


def _line_of(xml: bytes, marker: bytes) -> int:
    return xml[: xml.index(marker)].count(b"\n") + 1


def test_a_misplaced_element_is_refused_with_e0304_naming_element_and_line(client, issuer):
    number = f"{issuer.track}{issuer.begin:08d}"
    xml = (
        _pretty(_xml(issuer.ubn, number)).replace(b"<Address>", b"<Adress>", 1).replace(b"</Address>", b"</Adress>", 1)
    )
    answer = _post(client, issuer.key_headers, xml)
    assert answer.status_code == 400
    error = body_of(answer)["error"]
    line = _line_of(xml, b"<Adress>")
    assert (error["code"], error["mof_code"], error["field"]) == ("MIG_SCHEMA_FORMAT", "E0304", "Main.Seller.Adress")
    assert f"line {line}" in error["message"]
    assert f"第 {line} 行" in error["message_zh"]
    assert E0304_ZH in error["message_zh"]


def test_a_value_the_schema_refuses_is_e0305(client, issuer):
    number = f"{issuer.track}{issuer.begin:08d}"
    xml = _pretty(_xml(issuer.ubn, number)).replace(b"<TaxType>1</TaxType>", b"<TaxType>7</TaxType>", 1)
    answer = _post(client, issuer.key_headers, xml)
    assert answer.status_code == 400
    error = body_of(answer)["error"]
    line = _line_of(xml, b"<TaxType>7</TaxType>")
    assert (error["code"], error["mof_code"], error["field"]) == (
        "MIG_SCHEMA_CONTENT",
        "E0305",
        "Details.ProductItem.TaxType",
    )
    assert f"line {line}" in error["message"]
    assert E0305_ZH in error["message_zh"]


def test_main_children_in_another_order_are_accepted(client, issuer):
    # Main is xsd:all in the official F0401.xsd: InvoiceTime before InvoiceDate is a valid message.
    number = f"{issuer.track}{issuer.begin:08d}"
    xml = _xml(issuer.ubn, number)
    date_element = xml[xml.index(b"<InvoiceDate>") : xml.index(b"</InvoiceDate>") + len(b"</InvoiceDate>")]
    time_element = xml[xml.index(b"<InvoiceTime>") : xml.index(b"</InvoiceTime>") + len(b"</InvoiceTime>")]
    swapped = xml.replace(date_element + time_element, time_element + date_element)
    assert swapped != xml
    assert _post(client, issuer.key_headers, swapped).status_code == 201


def test_unreadable_xml_is_e0306(client, issuer):
    answer = _post(client, issuer.key_headers, b"<Invoice><Main>")
    assert answer.status_code == 400
    assert body_of(answer)["error"]["mof_code"] == "E0306"


def _e0501(ubn: str, period: str, track: str, begin: int, *, namespace: str = "urn:GEINV:E0501:4.0") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<InvoiceAssignNo xmlns="{namespace}">
  <Ban>{ubn}</Ban>
  <InvoiceType>07</InvoiceType>
  <YearMonth>{period}</YearMonth>
  <InvoiceTrack>{track}</InvoiceTrack>
  <InvoiceBeginNo>{begin:08d}</InvoiceBeginNo>
  <InvoiceEndNo>{begin + 99:08d}</InvoiceEndNo>
  <InvoiceBooklet>2</InvoiceBooklet>
</InvoiceAssignNo>""".encode()


def test_e0501_in_the_official_namespace_is_imported(client, new_merchant):
    # urn:GEINV:E0501:4.0 is the targetNamespace of the MOF's own E0501.xsd.
    merchant = new_merchant()
    period = Period.from_date(datetime.now(TAIWAN_TZ).date()).code
    body = _e0501(merchant.ubn, period, _track(), _begin(2))
    answer = client.http.post(
        "/v1/tracks/import", headers={"Content-Type": "application/xml", **merchant.headers}, body=body
    )
    assert answer.status_code == 201, answer.body


def test_e0501_failing_its_schema_is_refused_with_e0305_and_the_line(client, new_merchant):
    merchant = new_merchant()
    period = Period.from_date(datetime.now(TAIWAN_TZ).date()).code
    body = _e0501(merchant.ubn, period, _track(), _begin(2)).replace(b"<InvoiceBooklet>2<", b"<InvoiceBooklet>two<")
    answer = client.http.post(
        "/v1/tracks/import", headers={"Content-Type": "application/xml", **merchant.headers}, body=body
    )
    assert answer.status_code == 400
    error = body_of(answer)["error"]
    assert (error["code"], error["mof_code"], error["field"]) == (
        "MIG_SCHEMA_CONTENT",
        "E0305",
        "InvoiceAssignNo[0].InvoiceBooklet",
    )
    assert "line 9" in error["message"]
    assert "第 9 行" in error["message_zh"]
    assert _tracks(client, merchant) == []
