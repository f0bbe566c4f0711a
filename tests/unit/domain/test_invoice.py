"""Invoice drafts: request shape (InvalidInput) and the cross-field rules of reference §2.10."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from chalicelib.domain.errors import InvalidInput, RuleViolation
from chalicelib.domain.invoice import parse_draft, validate_draft
from chalicelib.domain.tax import TaxType

SELLER = "24634102"

# API.md request examples
B2C_MOBILE: dict[str, Any] = {
    "buyer": {"ubn": None, "name": "消費者", "email": "buyer@example.com"},
    "carrier": {"type": "3J0002", "id": "/ABC+123"},
    "donation_code": None,
    "print": False,
    "items": [{"description": "拿鐵咖啡", "quantity": "2", "unit": "杯", "unit_price": "65", "tax_type": "1"}],
    "prices_include_tax": True,
    "order_id": "SO-2025-0001",
}
B2B: dict[str, Any] = {
    "buyer": {"ubn": "22099131", "name": "台灣積體電路製造股份有限公司", "email": "ap@example.com"},
    "print": True,
    "items": [{"description": "顧問服務", "quantity": "1", "unit_price": "1380", "tax_type": "1"}],
    "prices_include_tax": True,
}


def body(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    result = copy.deepcopy(base)
    result.update(changes)
    return result


def check(data: dict[str, Any]) -> Any:
    return validate_draft(parse_draft(data), seller_ubn=SELLER)


def rule(data: dict[str, Any]) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        check(data)
    return caught.value


def invalid(data: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_draft(data)
    return caught.value


def test_api_b2c_example_is_accepted_with_tax_inside_the_sales_amount() -> None:
    result = check(B2C_MOBILE)
    assert result.draft.carrier is not None and result.draft.carrier.id2 == "/ABC+123"
    amounts = result.amounts
    assert (amounts.sales_amount, amounts.tax_amount, amounts.total_amount) == (130, 0, 130)
    assert result.warnings == ()


def test_api_b2b_example_splits_1380_into_1314_and_66() -> None:
    amounts = check(B2B).amounts
    assert (amounts.sales_amount, amounts.tax_amount, amounts.total_amount) == (1314, 66, 1380)
    assert amounts.model_dump(mode="json") == {
        "sales_amount": 1314,
        "free_tax_sales_amount": 0,
        "zero_tax_sales_amount": 0,
        "tax_type": "1",
        "tax_rate": "0.05",
        "tax_amount": 66,
        "total_amount": 1380,
    }


# --- delivery: print, carrier, donation -------------------------------------------------------


def test_a_buyer_with_a_ubn_cannot_donate() -> None:
    error = rule(body(B2B, print=False, donation_code="25885"))
    assert (error.code, error.field) == ("DONATION_WITH_BUYER_UBN", "donation_code")
    assert error.message_zh


def test_carrier_and_donation_together_are_refused() -> None:
    error = rule(body(B2C_MOBILE, donation_code="919"))
    assert (error.code, error.field) == ("CARRIER_WITH_DONATION", "donation_code")


def test_a_donated_invoice_is_not_printed() -> None:
    donated = body(B2C_MOBILE, carrier=None, donation_code="919")
    assert check(donated).draft.donation_code == "919"
    error = rule(body(donated, print=True))
    assert (error.code, error.field) == ("DONATION_PRINTED", "print")


def test_a_consumer_invoice_without_carrier_or_donation_must_be_printed() -> None:
    error = rule(body(B2C_MOBILE, carrier=None))
    assert (error.code, error.field) == ("PRINT_REQUIRED", "print")
    assert check(body(B2C_MOBILE, carrier=None, print=True)).draft.print_proof


def test_a_consumer_carrier_invoice_is_not_printed() -> None:
    error = rule(body(B2C_MOBILE, print=True))
    assert (error.code, error.field) == ("CARRIER_INVOICE_PRINTED", "print")


def test_a_buyer_ubn_with_a_mobile_barcode_keeps_the_carrier_printed_or_not() -> None:
    for printed in (True, False):
        result = check(body(B2B, carrier={"type": "3J0002", "id": "/ABC+123"}, print=printed))
        assert result.draft.carrier is not None
        assert result.amounts.tax_amount == 66


def test_other_carriers_are_not_printed_even_with_a_buyer_ubn() -> None:
    citizen = {"type": "CQ0001", "id": "AB12345678901234"}
    assert check(body(B2B, carrier=citizen, print=False)).draft.carrier is not None
    assert rule(body(B2B, carrier=citizen, print=True)).code == "CARRIER_INVOICE_PRINTED"


def test_a_b2b_invoice_need_not_be_printed() -> None:
    assert not check(body(B2B, print=False)).draft.print_proof


# --- tax rules ------------------------------------------------------------------------------------

ZERO_ITEM = {"description": "出口機台", "quantity": "1", "unit_price": "50000", "tax_type": "2"}


def test_zero_rated_items_need_customs_mark_and_reason() -> None:
    error = rule(body(B2B, items=[ZERO_ITEM]))
    assert (error.code, error.field) == ("ZERO_TAX_FIELDS_REQUIRED", "customs_clearance_mark")
    error = rule(body(B2B, items=[ZERO_ITEM], customs_clearance_mark="2"))
    assert (error.code, error.field) == ("ZERO_TAX_FIELDS_REQUIRED", "zero_tax_rate_reason")
    result = check(body(B2B, items=[ZERO_ITEM], customs_clearance_mark="2", zero_tax_rate_reason="71"))
    amounts = result.amounts
    assert (amounts.tax_type, amounts.zero_tax_sales_amount, amounts.tax_amount) == (
        TaxType.ZERO_RATED,
        50000,
        0,
    )


def test_zero_rate_fields_without_zero_rated_items_are_refused() -> None:
    error = rule(body(B2B, zero_tax_rate_reason="71"))
    assert (error.code, error.field) == ("ZERO_TAX_FIELDS_NOT_ALLOWED", "zero_tax_rate_reason")


@pytest.mark.parametrize("reason", ["70", "80", "7"])
def test_zero_tax_reason_is_71_to_79(reason: str) -> None:
    error = invalid(body(B2B, items=[ZERO_ITEM], customs_clearance_mark="1", zero_tax_rate_reason=reason))
    assert (error.code, error.field) == ("INVALID_ZERO_TAX_RATE_REASON", "zero_tax_rate_reason")


def test_customs_mark_is_1_or_2() -> None:
    error = invalid(body(B2B, items=[ZERO_ITEM], customs_clearance_mark="3", zero_tax_rate_reason="71"))
    assert (error.code, error.field) == ("INVALID_CUSTOMS_CLEARANCE_MARK", "customs_clearance_mark")


def test_mixed_items_make_a_type_9_invoice() -> None:
    items = [*B2B["items"], {"description": "書籍", "quantity": "1", "unit_price": "300", "tax_type": "3"}]
    amounts = check(body(B2B, items=items)).amounts
    assert (amounts.tax_type, amounts.free_tax_sales_amount, amounts.total_amount) == (
        TaxType.MIXED,
        300,
        1680,
    )


@pytest.mark.parametrize(("invoice_type", "tax_type"), [("07", "4"), ("08", "1")])
def test_item_tax_types_must_fit_the_invoice_type(invoice_type: str, tax_type: str) -> None:
    items = [*B2B["items"], {"description": "x", "quantity": "1", "unit_price": "1", "tax_type": tax_type}]
    error = rule(body(B2B, invoice_type=invoice_type, items=items, special_tax_rate="0.25"))
    assert (error.code, error.field) == (
        "TAX_TYPE_NOT_ALLOWED",
        f"items[{0 if invoice_type == '08' else 1}].tax_type",
    )


def test_special_invoice_with_its_rate() -> None:
    items = [{"description": "酒類", "quantity": "1", "unit_price": "1250", "tax_type": "4"}]
    amounts = check(body(B2B, invoice_type="08", items=items, special_tax_rate="0.25")).amounts
    assert (amounts.sales_amount, amounts.tax_amount, amounts.tax_type) == (1000, 250, TaxType.SPECIAL)


# --- amounts ------------------------------------------------------------------------------------


def test_a_discount_line_is_accepted_when_the_total_stays_positive() -> None:
    items = [*B2B["items"], {"description": "折扣", "quantity": "1", "unit_price": "-330", "tax_type": "1"}]
    amounts = check(body(B2B, items=items)).amounts
    assert (amounts.sales_amount, amounts.tax_amount, amounts.total_amount) == (1000, 50, 1050)


def test_a_zero_total_invoice_is_refused() -> None:
    items = [
        *B2B["items"],
        {"description": "全額折扣", "quantity": "1", "unit_price": "-1380", "tax_type": "1"},
    ]
    assert rule(body(B2B, items=items)).code == "ZERO_AMOUNT_INVOICE"


def test_negative_parts_are_refused() -> None:
    items = [*B2B["items"], {"description": "折扣", "quantity": "1", "unit_price": "-1", "tax_type": "3"}]
    assert rule(body(B2B, items=items)).code == "NEGATIVE_AMOUNT"


# --- buyer ------------------------------------------------------------------------------------


def test_same_seller_and_buyer_ubn_is_allowed_with_a_warning() -> None:
    result = check(body(B2B, buyer={"ubn": SELLER, "name": "自己"}))
    assert [(w.code, w.field) for w in result.warnings] == [("SAME_SELLER_BUYER_UBN", "buyer.ubn")]


def test_the_mig_consumer_identifier_means_no_buyer_ubn() -> None:
    result = check(body(B2C_MOBILE, buyer={"ubn": "0000000000"}))
    assert result.draft.buyer.ubn is None
    assert result.amounts.tax_amount == 0


def test_the_buyer_is_required_even_for_a_consumer() -> None:
    # Issue 15 item 10: a forgotten buyer must not silently become a B2C invoice.
    data = body(B2C_MOBILE)
    del data["buyer"]
    with pytest.raises(InvalidInput) as caught:
        check(data)
    assert (caught.value.code, caught.value.field) == ("MISSING_FIELD", "buyer")
    assert not check({**data, "buyer": {"ubn": None}}).draft.is_b2b


def test_a_b2b_buyer_needs_a_name() -> None:
    with pytest.raises(InvalidInput) as caught:
        check(body(B2B, buyer={"ubn": "22099131"}))
    assert (caught.value.code, caught.value.field) == ("MISSING_FIELD", "buyer.name")


def test_a_bad_buyer_ubn_is_reported_on_buyer_ubn() -> None:
    error = invalid(body(B2B, buyer={"ubn": "22099132", "name": "x"}))
    assert (error.code, error.field) == ("INVALID_UBN", "buyer.ubn")


# --- field limits -----------------------------------------------------------------------------


def item_with(**changes: Any) -> dict[str, Any]:
    return body(B2B, items=[{**B2B["items"][0], **changes}])


@pytest.mark.parametrize(
    ("field", "ok", "too_long"),
    [("description", 500, 501), ("unit", 6, 7), ("remark", 120, 121)],
)
def test_item_text_limits(field: str, ok: int, too_long: int) -> None:
    parse_draft(item_with(**{field: "字" * ok}))
    error = invalid(item_with(**{field: "字" * too_long}))
    assert (error.code, error.field) == ("TOO_LONG", f"items[0].{field}")


def test_buyer_name_and_email_limits() -> None:
    parse_draft(body(B2B, buyer={"ubn": "22099131", "name": "名" * 60, "email": "a" * 74 + "@b.com"}))
    assert invalid(body(B2B, buyer={"ubn": "22099131", "name": "名" * 61})).field == "buyer.name"
    # 80, not the 400 of one MIG 4.1 model: the reference calls the limit conflicting
    error = invalid(body(B2B, buyer={"ubn": "22099131", "name": "x", "email": "a" * 75 + "@b.com"}))
    assert (error.code, error.field) == ("TOO_LONG", "buyer.email")
    assert invalid(body(B2B, buyer={"ubn": "22099131", "name": "x", "email": "not-an-email"})).code == ("INVALID_EMAIL")


def test_blank_or_control_character_text_is_refused() -> None:
    assert invalid(item_with(description="   ")).code == "EMPTY_VALUE"
    assert invalid(item_with(description="咖啡\x00")).code == "INVALID_CHARACTERS"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("quantity", "1.12345678", "INVALID_QUANTITY"),  # 8 fraction digits
        ("quantity", "1" * 21, "INVALID_QUANTITY"),  # 21 digits
        ("quantity", "0", "INVALID_QUANTITY"),
        ("quantity", "-1", "INVALID_QUANTITY"),
        ("quantity", "1e3", "INVALID_QUANTITY"),
        ("quantity", "NaN", "INVALID_QUANTITY"),
        ("quantity", " 2", "INVALID_QUANTITY"),
        ("unit_price", 65.5, "INVALID_UNIT_PRICE"),  # floats are never money
        ("unit_price", True, "INVALID_UNIT_PRICE"),
        ("unit_price", "1_000", "INVALID_UNIT_PRICE"),
        ("tax_type", "9", "INVALID_TAX_TYPE"),
        ("tax_type", 1, "INVALID_TAX_TYPE"),
    ],
)
def test_item_numbers_are_decimal_20_7_strings_or_integers(field: str, value: object, code: str) -> None:
    error = invalid(item_with(**{field: value}))
    assert (error.code, error.field) == (code, f"items[0].{field}")


def test_decimal_limits_accept_the_edges() -> None:
    draft = parse_draft(item_with(quantity="1.1234567", unit_price=1380))
    assert str(draft.items[0].quantity) == "1.1234567"
    parse_draft(item_with(quantity="1234567890123.1234567", unit_price="1"))  # 20 digits, 7 after the point


def test_the_product_of_quantity_and_price_must_fit_too() -> None:
    error = invalid(item_with(quantity="9" * 13, unit_price="9" * 13))
    assert (error.code, error.field) == ("INVALID_AMOUNT", "items[0].unit_price")


def test_item_count_is_1_to_9999() -> None:
    line = B2B["items"][0]
    assert len(parse_draft(body(B2B, items=[line] * 9999)).items) == 9999
    assert invalid(body(B2B, items=[line] * 10000)).code == "TOO_MANY_ITEMS"
    assert invalid(body(B2B, items=[])).code == "TOO_FEW_ITEMS"


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"print": "true"}, "INVALID_TYPE", "print"),
        ({"prices_include_tax": 1}, "INVALID_TYPE", "prices_include_tax"),
        ({"invoice_type": "09"}, "INVALID_INVOICE_TYPE", "invoice_type"),
        ({"unknown": 1}, "UNKNOWN_FIELD", "unknown"),
        ({"donation_code": "12"}, "INVALID_DONATION_CODE", "donation_code"),
        ({"carrier": {"type": "3J0002", "id": "/abc+123"}}, "INVALID_CARRIER", "carrier.id"),
        ({"order_id": "x" * 21}, "TOO_LONG", "order_id"),
        ({"main_remark": "x" * 201}, "TOO_LONG", "main_remark"),
    ],
)
def test_shape_errors_name_the_json_field(changes: dict[str, Any], code: str, field: str) -> None:
    error = invalid(body(B2B, **changes))
    assert (error.code, error.field) == (code, field)
    assert error.message and error.message_zh


def test_required_fields() -> None:
    data = body(B2B)
    del data["prices_include_tax"]
    assert (invalid(data).code, invalid(data).field) == ("MISSING_FIELD", "prices_include_tax")
    assert invalid([B2B]).code == "INVALID_TYPE"
