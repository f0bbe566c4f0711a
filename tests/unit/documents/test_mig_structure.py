"""Root, namespace and element order of every MIG 4.1 message, checked against the reference.

The expected sequences below are typed from einvoice-domain.md (§2.3, §2.5-§2.9, §2.11), not
derived from the implementation.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from chalicelib.documents.mig import (
    Allowance,
    BranchTrack,
    BranchTrackBlank,
    CancelAllowance,
    CancelInvoice,
    Invoice,
    MessageType,
    VoidInvoice,
    build_xml,
    parse_xml,
    render_decimal,
)
from chalicelib.domain.errors import InvalidInput
from tests.unit.documents.fixtures.mig_factories import (
    allowance_data,
    branch_track_blank_data,
    branch_track_data,
    cancel_allowance_data,
    cancel_invoice_data,
    invoice_data,
    invoice_full_data,
    void_invoice_data,
)

ROLE = [
    "Identifier",
    "Name",
    "Address",
    "PersonInCharge",
    "TelephoneNumber",
    "FacsimileNumber",
    "EmailAddress",
    "CustomerNumber",
    "RoleRemark",
]
F0401_MAIN = [
    "InvoiceNumber",
    "InvoiceDate",
    "InvoiceTime",
    "Seller",
    "Buyer",
    "BuyerRemark",
    "MainRemark",
    "CustomsClearanceMark",
    "Category",
    "RelateNumber",
    "InvoiceType",
    "GroupMark",
    "DonateMark",
    "CarrierType",
    "CarrierId1",
    "CarrierId2",
    "PrintMark",
    "NPOBAN",
    "RandomNumber",
    "BondedAreaConfirm",
    "ZeroTaxRateReason",
    "Reserved1",
    "Reserved2",
]
F0401_ITEM = [
    "Description",
    "Quantity",
    "Unit",
    "UnitPrice",
    "TaxType",
    "Amount",
    "SequenceNumber",
    "Remark",
    "RelateNumber",
]
F0401_AMOUNT = [
    "SalesAmount",
    "FreeTaxSalesAmount",
    "ZeroTaxSalesAmount",
    "TaxType",
    "TaxRate",
    "TaxAmount",
    "TotalAmount",
    "DiscountAmount",
    "OriginalCurrencyAmount",
    "ExchangeRate",
    "Currency",
]
F0501 = [
    "CancelInvoiceNumber",
    "InvoiceDate",
    "BuyerId",
    "SellerId",
    "CancelDate",
    "CancelTime",
    "CancelReason",
    "ReturnTaxDocumentNumber",
    "Remark",
]
F0701 = [
    "VoidInvoiceNumber",
    "InvoiceDate",
    "BuyerId",
    "SellerId",
    "VoidDate",
    "VoidTime",
    "VoidReason",
    "Remark",
]
G0401_MAIN = [
    "AllowanceNumber",
    "AllowanceDate",
    "Seller",
    "Buyer",
    "AllowanceType",
    "OriginalInvoiceSellerId",
    "OriginalInvoiceBuyerId",
]
G0401_ITEM = [
    "OriginalInvoiceDate",
    "OriginalInvoiceNumber",
    "OriginalSequenceNumber",
    "OriginalDescription",
    "Quantity",
    "Unit",
    "UnitPrice",
    "Amount",
    "Tax",
    "AllowanceSequenceNumber",
    "TaxType",
]
G0501 = [
    "CancelAllowanceNumber",
    "AllowanceType",
    "AllowanceDate",
    "BuyerId",
    "SellerId",
    "CancelDate",
    "CancelTime",
    "CancelReason",
    "Remark",
]
E0401_MAIN = [
    "HeadBan",
    "BranchBan",
    "InvoiceType",
    "YearMonth",
    "InvoiceTrack",
    "InvoiceBeginNo",
    "InvoiceEndNo",
]
E0402_MAIN = ["HeadBan", "BranchBan", "InvoiceType", "YearMonth", "InvoiceTrack"]


def _root(xml: bytes) -> Any:
    return etree.fromstring(xml)


def _names(element: Any) -> list[str]:
    return [etree.QName(child).localname for child in element]


def _child(element: Any, name: str) -> Any:
    found = [child for child in element if etree.QName(child).localname == name]
    assert len(found) == 1, name
    return found[0]


def _text(element: Any, path: str) -> str:
    for name in path.split("/"):
        element = _child(element, name)
    return str(element.text)


# --- root and namespace -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "root", "code"),
    [
        (lambda: Invoice.from_data(invoice_data()), "Invoice", "F0401"),
        (lambda: CancelInvoice.from_data(cancel_invoice_data()), "CancelInvoice", "F0501"),
        (lambda: VoidInvoice.from_data(void_invoice_data()), "VoidInvoice", "F0701"),
        (lambda: Allowance.from_data(allowance_data()), "Allowance", "G0401"),
        (lambda: CancelAllowance.from_data(cancel_allowance_data()), "CancelAllowance", "G0501"),
        (lambda: BranchTrack.from_data(branch_track_data()), "BranchTrack", "E0401"),
        (lambda: BranchTrackBlank.from_data(branch_track_blank_data()), "BranchTrackBlank", "E0402"),
    ],
)
def test_root_element_and_namespace(message: Any, root: str, code: str) -> None:
    xml = build_xml(message())
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    element = _root(xml)
    namespace = f"urn:GEINV:eInvoiceMessage:{code}:4.1"
    assert element.tag == f"{{{namespace}}}{root}"
    assert element.nsmap == {None: namespace}  # default namespace, no prefixes
    assert all(etree.QName(e).namespace == namespace for e in element.iter())
    assert MessageType(code).namespace == namespace


# --- element order ------------------------------------------------------------------------------


def test_f0401_full_element_order() -> None:
    root = _root(build_xml(Invoice.from_data(invoice_full_data())))
    assert _names(root) == ["Main", "Details", "Amount"]
    main = _child(root, "Main")
    assert _names(main) == F0401_MAIN
    assert _names(_child(main, "Seller")) == ROLE
    assert _names(_child(main, "Buyer")) == ROLE
    assert _names(_child(root, "Details")) == ["ProductItem"]
    assert _names(_child(_child(root, "Details"), "ProductItem")) == F0401_ITEM
    assert _names(_child(root, "Amount")) == F0401_AMOUNT


def test_f0401_optional_elements_are_omitted() -> None:
    root = _root(build_xml(Invoice.from_data(invoice_data())))
    main = _child(root, "Main")
    assert _names(main) == [
        "InvoiceNumber",
        "InvoiceDate",
        "InvoiceTime",
        "Seller",
        "Buyer",
        "InvoiceType",
        "DonateMark",
        "PrintMark",
        "RandomNumber",
    ]
    assert _names(_child(main, "Buyer")) == ["Identifier", "Name"]


def test_f0401_empty_optional_strings_are_omitted() -> None:
    data = invoice_data()
    data["main"].update(main_remark="", carrier_type="", npoban="")
    data["main"]["buyer"]["address"] = ""
    invoice = Invoice.from_data(data)
    assert invoice.main.main_remark is None
    main = _child(_root(build_xml(invoice)), "Main")
    assert "MainRemark" not in _names(main)
    assert "CarrierType" not in _names(main)
    assert _names(_child(main, "Buyer")) == ["Identifier", "Name"]


def test_f0401_carrier_between_donate_mark_and_print_mark_and_npoban_after_print_mark() -> None:
    data = invoice_data()
    data["main"].update(
        carrier_type="3J0002", carrier_id1="/ABC+123", carrier_id2="/ABC+123", print_mark="N", npoban="25885"
    )
    data["main"]["donate_mark"] = "1"
    names = _names(_child(_root(build_xml(Invoice.from_data(data))), "Main"))
    assert names[names.index("DonateMark") : names.index("NPOBAN") + 1] == [
        "DonateMark",
        "CarrierType",
        "CarrierId1",
        "CarrierId2",
        "PrintMark",
        "NPOBAN",
    ]


def test_f0501_flat_order() -> None:
    root = _root(build_xml(CancelInvoice.from_data(cancel_invoice_data())))
    assert _names(root) == F0501


def test_f0701_flat_order() -> None:
    root = _root(build_xml(VoidInvoice.from_data(void_invoice_data())))
    assert _names(root) == F0701


def test_g0401_order_and_amount_block_has_only_two_elements() -> None:
    data = allowance_data()
    data["main"]["buyer"] = {**data["main"]["buyer"], "address": "x", "role_remark": "r"}
    root = _root(build_xml(Allowance.from_data(data)))
    assert _names(root) == ["Main", "Details", "Amount"]
    main = _child(root, "Main")
    assert _names(main) == G0401_MAIN
    assert _names(_child(main, "Seller")) == ["Identifier", "Name", "Address"]
    assert _names(_child(main, "Buyer")) == ["Identifier", "Name", "Address", "RoleRemark"]
    assert _names(_child(_child(root, "Details"), "ProductItem")) == G0401_ITEM
    assert _names(_child(root, "Amount")) == ["TaxAmount", "TotalAmount"]


def test_g0401_unit_is_optional_and_written_when_given() -> None:
    data = allowance_data()
    del data["details"][0]["unit"]
    item = _child(_child(_root(build_xml(Allowance.from_data(data))), "Details"), "ProductItem")
    assert "Unit" not in _names(item)
    item = _child(_child(_root(build_xml(Allowance.from_data(allowance_data()))), "Details"), "ProductItem")
    assert _text(item, "Unit") == "個"


def test_g0501_flat_order_with_allowance_type() -> None:
    root = _root(build_xml(CancelAllowance.from_data(cancel_allowance_data())))
    assert _names(root) == G0501
    assert _text(root, "AllowanceType") == "2"


def test_e0401_order() -> None:
    root = _root(build_xml(BranchTrack.from_data(branch_track_data())))
    assert _names(root) == ["Main", "Details"]
    assert _names(_child(root, "Main")) == E0401_MAIN
    details = _child(root, "Details")
    assert _names(details) == ["BranchTrackItem", "BranchTrackItem"]
    assert _names(details[0]) == ["InvoiceBeginNo", "InvoiceEndNo", "InvoiceBooklet"]
    assert _text(details[1], "InvoiceBooklet") == "20"


def test_e0402_order() -> None:
    root = _root(build_xml(BranchTrackBlank.from_data(branch_track_blank_data())))
    assert _names(root) == ["Main", "Details"]
    assert _names(_child(root, "Main")) == E0402_MAIN
    details = _child(root, "Details")
    assert _names(details) == ["BranchTrackBlankItem", "BranchTrackBlankItem"]
    assert _names(details[0]) == ["InvoiceBeginNo", "InvoiceEndNo"]


# --- §2.11 skeleton -----------------------------------------------------------------------------

SKELETON = """<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:GEINV:eInvoiceMessage:F0401:4.1">
  <Main>
    <InvoiceNumber>AB12345678</InvoiceNumber>
    <InvoiceDate>20241105</InvoiceDate>
    <InvoiceTime>10:20:30</InvoiceTime>
    <Seller><Identifier>24634102</Identifier><Name>Seller Co.</Name><Address>…</Address></Seller>
    <Buyer><Identifier>0000000000</Identifier><Name>0000</Name></Buyer>
    <InvoiceType>07</InvoiceType>
    <DonateMark>0</DonateMark>
    <PrintMark>Y</PrintMark>
    <RandomNumber>7213</RandomNumber>
  </Main>
  <Details>
    <ProductItem>
      <Description>Item</Description><Quantity>1</Quantity><UnitPrice>105</UnitPrice>
      <TaxType>1</TaxType><Amount>105</Amount><SequenceNumber>1</SequenceNumber>
    </ProductItem>
  </Details>
  <Amount>
    <SalesAmount>105</SalesAmount><FreeTaxSalesAmount>0</FreeTaxSalesAmount>
    <ZeroTaxSalesAmount>0</ZeroTaxSalesAmount><TaxType>1</TaxType><TaxRate>0.05</TaxRate>
    <TaxAmount>0</TaxAmount><TotalAmount>105</TotalAmount>
  </Amount>
</Invoice>
""".encode()


def _canonical(xml: bytes) -> bytes:
    parser = etree.XMLParser(remove_blank_text=True)
    return bytes(etree.tostring(etree.fromstring(xml, parser), method="c14n"))


def test_skeleton_is_reproduced() -> None:
    built = build_xml(Invoice.from_data(invoice_data()))
    assert _canonical(built) == _canonical(SKELETON)


def test_skeleton_parses_into_the_model() -> None:
    assert parse_xml("F0401", SKELETON) == Invoice.from_data(invoice_data())


# --- rendering ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal(105), "105"),
        (Decimal("105.0000"), "105"),
        (Decimal("0.05"), "0.05"),
        (Decimal("0.050"), "0.05"),
        (Decimal("1.5"), "1.5"),
        (Decimal("1E+2"), "100"),
        (Decimal("1E-7"), "0.0000001"),
        (Decimal("-12.30"), "-12.3"),
        (Decimal("-0.0"), "0"),
        (Decimal("0E-7"), "0"),
        (Decimal("12345678901234567890"), "12345678901234567890"),
    ],
)
def test_decimal_rendering(value: Decimal, text: str) -> None:
    assert render_decimal(value) == text


def test_amounts_dates_and_times_are_rendered_per_mig() -> None:
    data = invoice_data()
    data["details"][0].update(quantity=Decimal("1.500"), unit_price=Decimal("70.0000000"))
    data["amount"]["tax_rate"] = Decimal("0.0500")
    root = _root(build_xml(Invoice.from_data(data)))
    assert _text(root, "Details/ProductItem/Quantity") == "1.5"
    assert _text(root, "Details/ProductItem/UnitPrice") == "70"
    assert _text(root, "Amount/TaxRate") == "0.05"
    assert _text(root, "Main/InvoiceDate") == "20241105"
    assert _text(root, "Main/InvoiceTime") == "10:20:30"


def test_chinese_text_is_written_as_utf8() -> None:
    data = cancel_invoice_data()
    xml = build_xml(CancelInvoice.from_data(data))
    assert "買受人要求退換貨作廢".encode() in xml


# --- parsing: namespaces, roots, structure -------------------------------------------------------


def test_parse_accepts_prefixed_namespace() -> None:
    prefixed = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<f:VoidInvoice xmlns:f="urn:GEINV:eInvoiceMessage:F0701:4.1"'
        b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        b' xsi:schemaLocation="urn:GEINV:eInvoiceMessage:F0701:4.1 F0701.xsd">'
        b"<f:VoidInvoiceNumber>AB12345678</f:VoidInvoiceNumber><f:InvoiceDate>20241105</f:InvoiceDate>"
        b"<f:BuyerId>0000000000</f:BuyerId><f:SellerId>24634102</f:SellerId>"
        b"<f:VoidDate>20241106</f:VoidDate><f:VoidTime>09:00:00</f:VoidTime>"
        b"<f:VoidReason>wrong</f:VoidReason></f:VoidInvoice>"
    )
    parsed = parse_xml(MessageType.F0701, prefixed)
    assert isinstance(parsed, VoidInvoice)
    assert parsed.void_reason == "wrong"
    assert parsed.remark is None
    assert VoidInvoice.from_xml(prefixed) == parsed


def test_parse_rejects_wrong_root() -> None:
    xml = build_xml(CancelInvoice.from_data(cancel_invoice_data()))
    with pytest.raises(InvalidInput) as caught:
        parse_xml("F0701", xml)
    assert caught.value.code == "MIG_XML_ROOT"
    assert caught.value.field == "CancelInvoice"
    assert "VoidInvoice" in caught.value.message


@pytest.mark.parametrize(
    "namespace",
    [
        b' xmlns="urn:GEINV:eInvoiceMessage:F0501:4.0"',
        b' xmlns="urn:GEINV:eInvoiceMessage:F0701:4.1"',
        b"",
    ],
)
def test_parse_rejects_wrong_or_missing_namespace(namespace: bytes) -> None:
    xml = build_xml(CancelInvoice.from_data(cancel_invoice_data())).replace(
        b' xmlns="urn:GEINV:eInvoiceMessage:F0501:4.1"', namespace
    )
    with pytest.raises(InvalidInput) as caught:
        parse_xml("F0501", xml)
    assert caught.value.code == "MIG_XML_NAMESPACE"
    assert caught.value.field == "CancelInvoice"


def test_parse_rejects_child_in_other_namespace() -> None:
    xml = build_xml(CancelInvoice.from_data(cancel_invoice_data())).replace(b"<Remark>", b'<Remark xmlns="urn:other">')
    with pytest.raises(InvalidInput) as caught:
        parse_xml("F0501", xml)
    assert (caught.value.code, caught.value.field) == ("MIG_XML_NAMESPACE", "Remark")


def test_parse_accepts_any_order_where_the_xsd_has_all() -> None:
    # Main is xsd:all in the official F0401.xsd: its children may come in any order.
    message = Invoice.from_data(invoice_data())
    xml = build_xml(message)
    swapped = xml.replace(
        b"<DonateMark>0</DonateMark><PrintMark>Y</PrintMark>",
        b"<PrintMark>Y</PrintMark><DonateMark>0</DonateMark>",
    )
    assert swapped != xml
    assert parse_xml("F0401", swapped) == message


def test_parse_rejects_out_of_order_elements_in_a_role() -> None:
    # Seller/Buyer are the RoleDescriptionType group, an xsd:sequence: the order is fixed.
    xml = build_xml(Invoice.from_data(invoice_data()))
    swapped = xml.replace(
        b"<Identifier>24634102</Identifier><Name>Seller Co.</Name>",
        b"<Name>Seller Co.</Name><Identifier>24634102</Identifier>",
    )
    assert swapped != xml
    with pytest.raises(InvalidInput) as caught:
        parse_xml("F0401", swapped)
    assert (caught.value.code, caught.value.field) == ("MIG_FIELD_ORDER", "Main.Seller.Identifier")


def test_parse_rejects_repeated_element() -> None:
    xml = build_xml(VoidInvoice.from_data(void_invoice_data()))
    doubled = xml.replace(b"</VoidReason>", b"</VoidReason><VoidReason>again</VoidReason>")
    with pytest.raises(InvalidInput) as caught:
        parse_xml("F0701", doubled)
    assert (caught.value.code, caught.value.field) == ("MIG_FIELD_ORDER", "VoidReason")


@pytest.mark.parametrize("element", [b"<Reserved3>x</Reserved3>", b"<CheckNumber>1234</CheckNumber>"])
def test_parse_rejects_unknown_elements(element: bytes) -> None:
    # Neither is in the official F0501.xsd (Reserved1/2 are); CheckNumber was removed in 4.0.
    xml = build_xml(CancelInvoice.from_data(cancel_invoice_data())).replace(
        b"</CancelInvoice>", element + b"</CancelInvoice>"
    )
    with pytest.raises(InvalidInput) as caught:
        parse_xml("F0501", xml)
    assert caught.value.code == "MIG_FIELD_UNKNOWN"


def test_parse_rejects_foreign_item_in_details() -> None:
    xml = (
        build_xml(Invoice.from_data(invoice_data()))
        .replace(b"<Details><ProductItem>", b"<Details><Item>")
        .replace(b"</ProductItem></Details>", b"</Item></Details>")
    )
    with pytest.raises(InvalidInput) as caught:
        parse_xml("F0401", xml)
    assert (caught.value.code, caught.value.field) == ("MIG_FIELD_UNKNOWN", "Details.Item[0]")


def test_parse_reports_limit_violation_with_mig_path() -> None:
    xml = build_xml(Invoice.from_data(invoice_data())).replace(b"<Name>0000</Name>", b"<Name>" + b"x" * 61 + b"</Name>")
    with pytest.raises(InvalidInput) as caught:
        parse_xml("F0401", xml)
    assert (caught.value.code, caught.value.field) == ("MIG_FIELD_TOO_LONG", "Main.Buyer.Name")


def test_parse_treats_empty_mandatory_element_as_missing() -> None:
    xml = build_xml(VoidInvoice.from_data(void_invoice_data()))
    start = xml.index(b"<VoidReason>")
    end = xml.index(b"</VoidReason>") + len(b"</VoidReason>")
    with pytest.raises(InvalidInput) as caught:
        parse_xml("F0701", xml[:start] + b"<VoidReason/>" + xml[end:])
    assert (caught.value.code, caught.value.field) == ("MIG_FIELD_REQUIRED", "VoidReason")


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (b"<Quantity>1</Quantity>", b"<Quantity>1E+0</Quantity>", "Details.ProductItem[0].Quantity"),
        (b"<TaxRate>0.05</TaxRate>", b"<TaxRate>NaN</TaxRate>", "Amount.TaxRate"),
        (
            b"<InvoiceDate>20241105</InvoiceDate>",
            b"<InvoiceDate>2024-11-05</InvoiceDate>",
            "Main.InvoiceDate",
        ),
        (b"<InvoiceTime>10:20:30</InvoiceTime>", b"<InvoiceTime>10:20:30Z</InvoiceTime>", "Main.InvoiceTime"),
    ],
)
def test_parse_refuses_non_mig_lexical_forms(old: bytes, new: bytes, field: str) -> None:
    xml = build_xml(Invoice.from_data(invoice_data()))
    assert old in xml
    with pytest.raises(InvalidInput) as caught:
        parse_xml("F0401", xml.replace(old, new))
    assert (caught.value.code, caught.value.field) == ("MIG_FIELD_PATTERN", field)


def test_parse_refuses_elements_inside_a_text_field() -> None:
    xml = build_xml(VoidInvoice.from_data(void_invoice_data()))
    xml = xml.replace(b"<Remark>", b"<Remark><b>bold</b>")
    with pytest.raises(InvalidInput) as caught:
        parse_xml("F0701", xml)
    assert (caught.value.code, caught.value.field) == ("MIG_FIELD_TYPE", "Remark")


def test_parse_refuses_malformed_xml() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_xml("F0701", b"<VoidInvoice")
    assert caught.value.code == "MIG_XML_MALFORMED"


def test_parse_ignores_comments_and_whitespace() -> None:
    xml = build_xml(VoidInvoice.from_data(void_invoice_data()))
    noisy = xml.replace(b"<VoidDate>", b"\n  <!-- note -->\n  <VoidDate>")
    assert parse_xml("F0701", noisy) == VoidInvoice.from_data(void_invoice_data())


def test_unknown_message_type() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_xml("C0401", b"<Invoice/>")
    assert caught.value.code == "MIG_MESSAGE_TYPE"


def test_build_refuses_non_message() -> None:
    with pytest.raises(InvalidInput) as caught:
        build_xml(object())  # type: ignore[arg-type]
    assert caught.value.code == "MIG_MESSAGE_TYPE"


# --- hardening ----------------------------------------------------------------------------------

XXE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE VoidInvoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<VoidInvoice xmlns="urn:GEINV:eInvoiceMessage:F0701:4.1">
<VoidInvoiceNumber>AB12345678</VoidInvoiceNumber><InvoiceDate>20241105</InvoiceDate>
<BuyerId>0000000000</BuyerId><SellerId>24634102</SellerId><VoidDate>20241106</VoidDate>
<VoidTime>09:00:00</VoidTime><VoidReason>&xxe;</VoidReason></VoidInvoice>
"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<VoidInvoice xmlns="urn:GEINV:eInvoiceMessage:F0701:4.1"><VoidReason>&lol3;</VoidReason></VoidInvoice>
"""


@pytest.mark.parametrize("payload", [XXE, BILLION_LAUGHS], ids=["xxe", "billion-laughs"])
def test_dtd_and_entities_are_refused(payload: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_xml("F0701", payload)
    assert caught.value.code == "MIG_XML_FORBIDDEN"
    assert "root:" not in caught.value.message


def test_xxe_in_utf16_is_refused_too() -> None:
    payload = XXE.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    with pytest.raises(InvalidInput) as caught:
        parse_xml("F0701", payload)
    assert caught.value.code == "MIG_XML_FORBIDDEN"


def test_undeclared_entity_reference_is_refused() -> None:
    xml = build_xml(VoidInvoice.from_data(void_invoice_data())).replace(b"<Remark>", b"<Remark>&xxe;")
    with pytest.raises(InvalidInput) as caught:
        parse_xml("F0701", xml)
    assert caught.value.code in ("MIG_XML_MALFORMED", "MIG_XML_FORBIDDEN")
