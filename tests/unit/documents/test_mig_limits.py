"""Every XSD facet is enforced before XML exists, as InvalidInput naming the MIG path."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.documents.mig import (
    AllocationRecord,
    Buyer,
    Invoice,
    InvoiceAmount,
    InvoiceProductItem,
    Seller,
    build_xml,
)
from chalicelib.domain.errors import InvalidInput
from tests.unit.documents.fixtures.mig_factories import DELETE, SAMPLES, invoice_data, set_path

Path = tuple[str | int, ...]

CASES: list[tuple[str, Path, Any, str, str]] = [
    # F0401 Main
    ("F0401", ("main", "invoice_number"), "ab12345678", "MIG_FIELD_PATTERN", "Main.InvoiceNumber"),
    ("F0401", ("main", "invoice_number"), "AB1234567", "MIG_FIELD_PATTERN", "Main.InvoiceNumber"),
    ("F0401", ("main", "invoice_number"), DELETE, "MIG_FIELD_REQUIRED", "Main.InvoiceNumber"),
    ("F0401", ("main", "invoice_date"), "2024-11-05", "MIG_FIELD_PATTERN", "Main.InvoiceDate"),
    ("F0401", ("main", "invoice_date"), "20240230", "MIG_FIELD_PATTERN", "Main.InvoiceDate"),
    ("F0401", ("main", "invoice_date"), dt.datetime(2024, 1, 1), "MIG_FIELD_TYPE", "Main.InvoiceDate"),
    ("F0401", ("main", "invoice_date"), 20241105, "MIG_FIELD_TYPE", "Main.InvoiceDate"),
    ("F0401", ("main", "invoice_time"), "25:00:00", "MIG_FIELD_PATTERN", "Main.InvoiceTime"),
    ("F0401", ("main", "invoice_time"), "10:20", "MIG_FIELD_PATTERN", "Main.InvoiceTime"),
    ("F0401", ("main", "invoice_time"), dt.time(10, 20, 30, 5), "MIG_FIELD_PATTERN", "Main.InvoiceTime"),
    (
        "F0401",
        ("main", "invoice_time"),
        dt.time(10, 20, 30, tzinfo=dt.UTC),
        "MIG_FIELD_PATTERN",
        "Main.InvoiceTime",
    ),
    ("F0401", ("main", "seller", "identifier"), "1234567", "MIG_FIELD_PATTERN", "Main.Seller.Identifier"),
    ("F0401", ("main", "seller", "identifier"), "0000000000", "MIG_FIELD_PATTERN", "Main.Seller.Identifier"),
    (
        "F0401",
        ("main", "seller", "identifier"),
        "１２３４５６７８",
        "MIG_FIELD_PATTERN",
        "Main.Seller.Identifier",
    ),
    ("F0401", ("main", "seller", "address"), DELETE, "MIG_FIELD_REQUIRED", "Main.Seller.Address"),
    ("F0401", ("main", "seller", "name"), "", "MIG_FIELD_REQUIRED", "Main.Seller.Name"),
    ("F0401", ("main", "buyer", "identifier"), "000000000", "MIG_FIELD_PATTERN", "Main.Buyer.Identifier"),
    ("F0401", ("main", "buyer", "name"), "名" * 61, "MIG_FIELD_TOO_LONG", "Main.Buyer.Name"),
    ("F0401", ("main", "buyer", "address"), "x" * 101, "MIG_FIELD_TOO_LONG", "Main.Buyer.Address"),
    (
        "F0401",
        ("main", "buyer", "person_in_charge"),
        "x" * 31,
        "MIG_FIELD_TOO_LONG",
        "Main.Buyer.PersonInCharge",
    ),
    (
        "F0401",
        ("main", "buyer", "telephone_number"),
        "1" * 27,
        "MIG_FIELD_TOO_LONG",
        "Main.Buyer.TelephoneNumber",
    ),
    (
        "F0401",
        ("main", "buyer", "facsimile_number"),
        "1" * 27,
        "MIG_FIELD_TOO_LONG",
        "Main.Buyer.FacsimileNumber",
    ),
    ("F0401", ("main", "buyer", "email_address"), "a" * 81, "MIG_FIELD_TOO_LONG", "Main.Buyer.EmailAddress"),
    (
        "F0401",
        ("main", "seller", "email_address"),
        "a" * 81,
        "MIG_FIELD_TOO_LONG",
        "Main.Seller.EmailAddress",
    ),
    (
        "F0401",
        ("main", "buyer", "customer_number"),
        "x" * 21,
        "MIG_FIELD_TOO_LONG",
        "Main.Buyer.CustomerNumber",
    ),
    ("F0401", ("main", "buyer", "role_remark"), "x" * 41, "MIG_FIELD_TOO_LONG", "Main.Buyer.RoleRemark"),
    ("F0401", ("main", "buyer", "nickname"), "x", "MIG_FIELD_UNKNOWN", "Main.Buyer.nickname"),
    ("F0401", ("main", "buyer_remark"), "5", "MIG_FIELD_ENUM", "Main.BuyerRemark"),
    ("F0401", ("main", "main_remark"), "x" * 201, "MIG_FIELD_TOO_LONG", "Main.MainRemark"),
    ("F0401", ("main", "main_remark"), "bell\x07", "MIG_FIELD_CHARSET", "Main.MainRemark"),
    ("F0401", ("main", "customs_clearance_mark"), "3", "MIG_FIELD_ENUM", "Main.CustomsClearanceMark"),
    ("F0401", ("main", "category"), "ABC", "MIG_FIELD_TOO_LONG", "Main.Category"),
    ("F0401", ("main", "relate_number"), "x" * 21, "MIG_FIELD_TOO_LONG", "Main.RelateNumber"),
    ("F0401", ("main", "invoice_type"), "01", "MIG_FIELD_ENUM", "Main.InvoiceType"),
    ("F0401", ("main", "invoice_type"), 7, "MIG_FIELD_ENUM", "Main.InvoiceType"),
    ("F0401", ("main", "group_mark"), "Y", "MIG_FIELD_ENUM", "Main.GroupMark"),
    ("F0401", ("main", "donate_mark"), "2", "MIG_FIELD_ENUM", "Main.DonateMark"),
    ("F0401", ("main", "carrier_type"), "3J00021", "MIG_FIELD_TOO_LONG", "Main.CarrierType"),
    ("F0401", ("main", "carrier_id1"), "x" * 401, "MIG_FIELD_TOO_LONG", "Main.CarrierId1"),
    ("F0401", ("main", "carrier_id2"), "x" * 401, "MIG_FIELD_TOO_LONG", "Main.CarrierId2"),
    ("F0401", ("main", "print_mark"), "y", "MIG_FIELD_ENUM", "Main.PrintMark"),
    ("F0401", ("main", "print_mark"), DELETE, "MIG_FIELD_REQUIRED", "Main.PrintMark"),
    ("F0401", ("main", "npoban"), "12345678901", "MIG_FIELD_TOO_LONG", "Main.NPOBAN"),
    ("F0401", ("main", "random_number"), "123", "MIG_FIELD_PATTERN", "Main.RandomNumber"),
    ("F0401", ("main", "random_number"), "12a4", "MIG_FIELD_PATTERN", "Main.RandomNumber"),
    ("F0401", ("main", "bonded_area_confirm"), "5", "MIG_FIELD_ENUM", "Main.BondedAreaConfirm"),
    ("F0401", ("main", "zero_tax_rate_reason"), "70", "MIG_FIELD_ENUM", "Main.ZeroTaxRateReason"),
    ("F0401", ("main", "reserved1"), "x" * 21, "MIG_FIELD_TOO_LONG", "Main.Reserved1"),
    ("F0401", ("main", "reserved2"), "x" * 101, "MIG_FIELD_TOO_LONG", "Main.Reserved2"),
    ("F0401", ("main", "check_number"), "1234", "MIG_FIELD_UNKNOWN", "Main.check_number"),
    # F0401 Details
    ("F0401", ("details",), [], "MIG_FIELD_COUNT", "Details.ProductItem"),
    (
        "F0401",
        ("details", 0, "description"),
        "x" * 501,
        "MIG_FIELD_TOO_LONG",
        "Details.ProductItem[0].Description",
    ),
    ("F0401", ("details", 0, "description"), "", "MIG_FIELD_REQUIRED", "Details.ProductItem[0].Description"),
    # Text that prints: bidi overrides, BOMs and line breaks are refused like in the JSON API.
    (
        "F0401",
        ("details", 0, "description"),
        "咖啡\u202e",
        "MIG_FIELD_CHARSET",
        "Details.ProductItem[0].Description",
    ),
    ("F0401", ("main", "buyer", "name"), "\ufeff消費者", "MIG_FIELD_CHARSET", "Main.Buyer.Name"),
    ("F0401", ("main", "main_remark"), "line\nbreak", "MIG_FIELD_CHARSET", "Main.MainRemark"),
    (
        "F0401",
        ("details", 0, "quantity"),
        Decimal("1.12345678"),
        "MIG_FIELD_DIGITS",
        "Details.ProductItem[0].Quantity",
    ),
    (
        "F0401",
        ("details", 0, "unit_price"),
        Decimal("1" * 14 + ".5"),
        "MIG_FIELD_DIGITS",
        "Details.ProductItem[0].UnitPrice",
    ),
    ("F0401", ("details", 0, "unit_price"), 1.5, "MIG_FIELD_TYPE", "Details.ProductItem[0].UnitPrice"),
    ("F0401", ("details", 0, "amount"), "1E+3", "MIG_FIELD_PATTERN", "Details.ProductItem[0].Amount"),
    (
        "F0401",
        ("details", 0, "amount"),
        Decimal("Infinity"),
        "MIG_FIELD_TYPE",
        "Details.ProductItem[0].Amount",
    ),
    ("F0401", ("details", 0, "unit"), "x" * 7, "MIG_FIELD_TOO_LONG", "Details.ProductItem[0].Unit"),
    ("F0401", ("details", 0, "tax_type"), "9", "MIG_FIELD_ENUM", "Details.ProductItem[0].TaxType"),
    (
        "F0401",
        ("details", 0, "sequence_number"),
        "12345",
        "MIG_FIELD_TOO_LONG",
        "Details.ProductItem[0].SequenceNumber",
    ),
    ("F0401", ("details", 0, "remark"), "x" * 121, "MIG_FIELD_TOO_LONG", "Details.ProductItem[0].Remark"),
    (
        "F0401",
        ("details", 0, "relate_number"),
        "x" * 51,
        "MIG_FIELD_TOO_LONG",
        "Details.ProductItem[0].RelateNumber",
    ),
    # F0401 Amount: minInclusive 0, integer TaxAmount, TaxRate enumeration
    ("F0401", ("amount", "sales_amount"), Decimal(-1), "MIG_FIELD_RANGE", "Amount.SalesAmount"),
    (
        "F0401",
        ("amount", "free_tax_sales_amount"),
        Decimal("-0.5"),
        "MIG_FIELD_RANGE",
        "Amount.FreeTaxSalesAmount",
    ),
    (
        "F0401",
        ("amount", "zero_tax_sales_amount"),
        Decimal(-1),
        "MIG_FIELD_RANGE",
        "Amount.ZeroTaxSalesAmount",
    ),
    ("F0401", ("amount", "total_amount"), Decimal(-1), "MIG_FIELD_RANGE", "Amount.TotalAmount"),
    ("F0401", ("amount", "tax_amount"), Decimal(-1), "MIG_FIELD_RANGE", "Amount.TaxAmount"),
    ("F0401", ("amount", "tax_amount"), Decimal("5.5"), "MIG_FIELD_DIGITS", "Amount.TaxAmount"),
    ("F0401", ("amount", "tax_amount"), Decimal("1" * 21), "MIG_FIELD_DIGITS", "Amount.TaxAmount"),
    ("F0401", ("amount", "discount_amount"), Decimal(-1), "MIG_FIELD_RANGE", "Amount.DiscountAmount"),
    (
        "F0401",
        ("amount", "original_currency_amount"),
        Decimal("0.12345678"),
        "MIG_FIELD_DIGITS",
        "Amount.OriginalCurrencyAmount",
    ),
    ("F0401", ("amount", "exchange_rate"), Decimal("30.123456"), "MIG_FIELD_DIGITS", "Amount.ExchangeRate"),
    (
        "F0401",
        ("amount", "exchange_rate"),
        Decimal("123456789.12345"),
        "MIG_FIELD_DIGITS",
        "Amount.ExchangeRate",
    ),
    ("F0401", ("amount", "currency"), "twd", "MIG_FIELD_PATTERN", "Amount.Currency"),
    ("F0401", ("amount", "tax_type"), "5", "MIG_FIELD_ENUM", "Amount.TaxType"),
    ("F0401", ("amount", "tax_rate"), Decimal("0.03"), "MIG_FIELD_ENUM", "Amount.TaxRate"),
    ("F0401", ("amount", "tax_rate"), Decimal(5), "MIG_FIELD_ENUM", "Amount.TaxRate"),
    # F0501
    ("F0501", ("cancel_invoice_number",), "AB-12345678", "MIG_FIELD_PATTERN", "CancelInvoiceNumber"),
    ("F0501", ("buyer_id",), "1234567890", "MIG_FIELD_PATTERN", "BuyerId"),
    ("F0501", ("seller_id",), "0000000000", "MIG_FIELD_PATTERN", "SellerId"),
    ("F0501", ("cancel_time",), "9:00:00", "MIG_FIELD_PATTERN", "CancelTime"),
    ("F0501", ("cancel_reason",), "因" * 21, "MIG_FIELD_TOO_LONG", "CancelReason"),
    ("F0501", ("cancel_reason",), "", "MIG_FIELD_REQUIRED", "CancelReason"),
    ("F0501", ("return_tax_document_number",), "x" * 61, "MIG_FIELD_TOO_LONG", "ReturnTaxDocumentNumber"),
    ("F0501", ("remark",), "x" * 201, "MIG_FIELD_TOO_LONG", "Remark"),
    # Reserved1/2 are in the official F0501.xsd and F0701.xsd (≤20 and ≤100 characters).
    ("F0501", ("reserved1",), "x" * 21, "MIG_FIELD_TOO_LONG", "Reserved1"),
    ("F0501", ("reserved2",), "x" * 101, "MIG_FIELD_TOO_LONG", "Reserved2"),
    ("F0701", ("reserved1",), "x" * 21, "MIG_FIELD_TOO_LONG", "Reserved1"),
    ("F0501", ("reserved9",), "x", "MIG_FIELD_UNKNOWN", "reserved9"),
    # F0701
    ("F0701", ("void_invoice_number",), "AB12345678X", "MIG_FIELD_PATTERN", "VoidInvoiceNumber"),
    ("F0701", ("void_date",), DELETE, "MIG_FIELD_REQUIRED", "VoidDate"),
    ("F0701", ("void_reason",), "x" * 21, "MIG_FIELD_TOO_LONG", "VoidReason"),
    ("F0701", ("remark",), "x" * 201, "MIG_FIELD_TOO_LONG", "Remark"),
    # G0401
    ("G0401", ("main", "allowance_number"), "x" * 17, "MIG_FIELD_TOO_LONG", "Main.AllowanceNumber"),
    ("G0401", ("main", "allowance_type"), "1", "MIG_FIELD_ENUM", "Main.AllowanceType"),
    ("G0401", ("main", "allowance_type"), DELETE, "MIG_FIELD_REQUIRED", "Main.AllowanceType"),
    ("G0401", ("main", "seller", "address"), DELETE, "MIG_FIELD_REQUIRED", "Main.Seller.Address"),
    (
        "G0401",
        ("main", "original_invoice_seller_id"),
        "123",
        "MIG_FIELD_PATTERN",
        "Main.OriginalInvoiceSellerId",
    ),
    ("G0401", ("details",), [], "MIG_FIELD_COUNT", "Details.ProductItem"),
    (
        "G0401",
        ("details", 0, "original_invoice_number"),
        "A12345678",
        "MIG_FIELD_PATTERN",
        "Details.ProductItem[0].OriginalInvoiceNumber",
    ),
    (
        "G0401",
        ("details", 0, "original_description"),
        "x" * 501,
        "MIG_FIELD_TOO_LONG",
        "Details.ProductItem[0].OriginalDescription",
    ),
    (
        "G0401",
        ("details", 0, "original_sequence_number"),
        "12345",
        "MIG_FIELD_TOO_LONG",
        "Details.ProductItem[0].OriginalSequenceNumber",
    ),
    ("G0401", ("details", 0, "unit"), "x" * 7, "MIG_FIELD_TOO_LONG", "Details.ProductItem[0].Unit"),
    ("G0401", ("details", 0, "tax"), Decimal("2.5"), "MIG_FIELD_DIGITS", "Details.ProductItem[0].Tax"),
    (
        "G0401",
        ("details", 0, "allowance_sequence_number"),
        "12345",
        "MIG_FIELD_TOO_LONG",
        "Details.ProductItem[0].AllowanceSequenceNumber",
    ),
    ("G0401", ("details", 0, "tax_type"), "9", "MIG_FIELD_ENUM", "Details.ProductItem[0].TaxType"),
    ("G0401", ("amount", "tax_amount"), Decimal(-1), "MIG_FIELD_RANGE", "Amount.TaxAmount"),
    ("G0401", ("amount", "tax_amount"), Decimal("0.5"), "MIG_FIELD_DIGITS", "Amount.TaxAmount"),
    ("G0401", ("amount", "sales_amount"), Decimal(1), "MIG_FIELD_UNKNOWN", "Amount.sales_amount"),
    # G0501
    ("G0501", ("allowance_type",), "3", "MIG_FIELD_ENUM", "AllowanceType"),
    ("G0501", ("allowance_type",), DELETE, "MIG_FIELD_REQUIRED", "AllowanceType"),
    ("G0501", ("cancel_allowance_number",), "x" * 17, "MIG_FIELD_TOO_LONG", "CancelAllowanceNumber"),
    ("G0501", ("cancel_reason",), "x" * 21, "MIG_FIELD_TOO_LONG", "CancelReason"),
    # E0401
    ("E0401", ("main", "head_ban"), "2463410", "MIG_FIELD_PATTERN", "Main.HeadBan"),
    ("E0401", ("main", "year_month"), "11311", "MIG_FIELD_PATTERN", "Main.YearMonth"),
    ("E0401", ("main", "year_month"), "113012", "MIG_FIELD_PATTERN", "Main.YearMonth"),
    ("E0401", ("main", "invoice_track"), "ab", "MIG_FIELD_PATTERN", "Main.InvoiceTrack"),
    ("E0401", ("main", "invoice_begin_no"), "1000105", "MIG_FIELD_PATTERN", "Main.InvoiceBeginNo"),
    ("E0401", ("details",), [], "MIG_FIELD_COUNT", "Details.BranchTrackItem"),
    (
        "E0401",
        ("details", 1, "invoice_booklet"),
        0,
        "MIG_FIELD_RANGE",
        "Details.BranchTrackItem[1].InvoiceBooklet",
    ),
    (
        "E0401",
        ("details", 1, "invoice_end_no"),
        "1000209A",
        "MIG_FIELD_PATTERN",
        "Details.BranchTrackItem[1].InvoiceEndNo",
    ),
    # E0402
    ("E0402", ("main", "invoice_type"), "09", "MIG_FIELD_ENUM", "Main.InvoiceType"),
    ("E0402", ("main", "branch_ban"), DELETE, "MIG_FIELD_REQUIRED", "Main.BranchBan"),
    ("E0402", ("details",), [], "MIG_FIELD_COUNT", "Details.BranchTrackBlankItem"),
    (
        "E0402",
        ("details", 0, "invoice_begin_no"),
        "ABC",
        "MIG_FIELD_PATTERN",
        "Details.BranchTrackBlankItem[0].InvoiceBeginNo",
    ),
]


@pytest.mark.parametrize(
    ("message", "path", "value", "code", "field"),
    CASES,
    ids=[f"{c[0]}-{c[4]}-{c[3]}" for c in CASES],
)
def test_limit_violation_names_the_field(message: str, path: Path, value: Any, code: str, field: str) -> None:
    cls, sample = SAMPLES[message]
    data = set_path(sample(), path, value)
    with pytest.raises(InvalidInput) as caught:
        cls.from_data(data)
    error = caught.value
    assert (error.code, error.field) == (code, field)
    assert error.message.startswith(field)
    assert error.message_zh.startswith(field)
    assert error.message != error.message_zh


def test_samples_are_valid() -> None:
    for cls, sample in SAMPLES.values():
        assert build_xml(cls.from_data(sample()))


def test_9999_items_accepted_and_10000_refused() -> None:
    data = invoice_data()
    item = data["details"][0]
    data["details"] = [item] * 9999
    invoice = Invoice.from_data(data)
    assert len(invoice.details) == 9999
    data["details"] = [item] * 10000
    with pytest.raises(InvalidInput) as caught:
        Invoice.from_data(data)
    assert (caught.value.code, caught.value.field) == ("MIG_FIELD_COUNT", "Details.ProductItem")


def test_error_names_the_right_item_index() -> None:
    data = invoice_data()
    item = data["details"][0]
    data["details"] = [item, item, item, {**item, "description": "x" * 501}]
    with pytest.raises(InvalidInput) as caught:
        Invoice.from_data(data)
    assert caught.value.field == "Details.ProductItem[3].Description"
    assert caught.value.code == "MIG_FIELD_TOO_LONG"
    assert "500" in caught.value.message
    assert "500" in caught.value.message_zh


def test_boundaries_are_inclusive() -> None:
    data = invoice_data()
    data["main"]["buyer"].update(name="名" * 60, email_address="a" * 80)
    data["main"].update(main_remark="x" * 200, carrier_id1="x" * 400, npoban="1" * 10)
    data["details"][0].update(
        description="x" * 500, quantity=Decimal("1234567890123.1234567"), unit_price=Decimal("-0.0000001")
    )
    data["amount"].update(tax_amount=Decimal("9" * 20), exchange_rate=Decimal("12345678.12345"))
    assert build_xml(Invoice.from_data(data))


def test_direct_construction_raises_invalid_input_with_relative_path() -> None:
    with pytest.raises(InvalidInput) as caught:
        Buyer(identifier="0000000000", name="x" * 61)
    assert (caught.value.code, caught.value.field) == ("MIG_FIELD_TOO_LONG", "Name")
    with pytest.raises(InvalidInput) as caught:
        Seller(identifier="24634102", name="Seller")  # type: ignore[call-arg]
    assert (caught.value.code, caught.value.field) == ("MIG_FIELD_REQUIRED", "Address")
    with pytest.raises(InvalidInput) as caught:
        InvoiceProductItem(
            description="x",
            quantity=Decimal(1),
            unit_price=Decimal(1),
            tax_type="1",
            amount=Decimal("0.123456789"),
            sequence_number="1",
        )
    assert (caught.value.code, caught.value.field) == ("MIG_FIELD_DIGITS", "Amount")
    with pytest.raises(InvalidInput):
        AllocationRecord(
            ubn="24634102",
            invoice_type="07",
            period="11312",
            track="AB",
            begin_no="10000000",
            end_no="10000049",
            booklets=2,
        )


def test_nested_construction_keeps_full_path() -> None:
    good = Invoice.from_data(invoice_data())
    with pytest.raises(InvalidInput) as caught:
        Invoice(
            main=good.main,
            details=[*good.details, {**good.details[0].model_dump(), "unit": "x" * 7}],
            amount=good.amount,
        )
    assert caught.value.field == "Details.ProductItem[1].Unit"


def test_models_are_frozen() -> None:
    invoice = Invoice.from_data(invoice_data())
    with pytest.raises(Exception, match="frozen"):
        invoice.main.buyer.name = "changed"  # type: ignore[misc]
    assert isinstance(invoice.details, tuple)


def test_builder_revalidates_models_that_bypassed_validation() -> None:
    good = Invoice.from_data(invoice_data())
    copied = good.model_copy(
        update={"main": good.main.model_copy(update={"buyer": good.main.buyer.model_copy(update={"name": "x" * 61})})}
    )
    with pytest.raises(InvalidInput) as caught:
        build_xml(copied)
    assert (caught.value.code, caught.value.field) == ("MIG_FIELD_TOO_LONG", "Main.Buyer.Name")

    amount = InvoiceAmount.model_construct(**{**good.amount.model_dump(), "tax_amount": Decimal("1.5")})
    constructed = Invoice.model_construct(main=good.main, details=good.details, amount=amount)
    with pytest.raises(InvalidInput) as caught:
        build_xml(constructed)
    assert (caught.value.code, caught.value.field) == ("MIG_FIELD_DIGITS", "Amount.TaxAmount")

    no_items = Invoice.model_construct(main=good.main, details=(), amount=good.amount)
    with pytest.raises(InvalidInput) as caught:
        build_xml(no_items)
    assert (caught.value.code, caught.value.field) == ("MIG_FIELD_COUNT", "Details.ProductItem")


def test_tax_rate_compared_by_value() -> None:
    data = invoice_data()
    data["amount"]["tax_rate"] = "0.050"
    assert Invoice.from_data(data).amount.tax_rate == Decimal("0.05")
