"""The left QR's 銷售額 is the invoice's 未稅總金額 (total before tax), every tax type included (issue 15.5).

Barcode spec (電子發票證明聯一維及二維條碼規格說明): positions 22-29 of the left QR carry the sales
amount (銷售額 = 未稅總金額) and 30-37 the total (總計額), each as 8 lowercase hex digits
(einvoice-domain.md §6.3 and its corrections). The expectations below are worked by hand from the
items: the taxable part loses its 5 % tax (rounded half up), zero-rated and tax-free sales have none.
"""

from __future__ import annotations

import pytest

from tests.api.conftest import body_of
from tests.api.test_invoices import B2B, B2C_CARRIER, _issue, issuer  # noqa: F401 - issuer is a fixture

EXPORT = {"customs_clearance_mark": "2", "zero_tax_rate_reason": "71"}


def _item(name: str, quantity: str, price: str, tax_type: str) -> dict[str, str]:
    return {"description": name, "quantity": quantity, "unit_price": price, "tax_type": tax_type}


CASES = {
    # 2 x 65 = 130 with tax; 130 / 1.05 = 123.8 -> 124 = 0x7c; total 130 = 0x82.
    "taxable-b2c": (B2C_CARRIER, {}, [_item("拿鐵咖啡", "2", "65", "1")], "0000007c", "00000082"),
    # Zero-rated 500: no tax, so sales = total = 500 = 0x1f4 (today: 00000000).
    "zero-rated-b2c": (B2C_CARRIER, EXPORT, [_item("外銷貨物", "1", "500", "2")], "000001f4", "000001f4"),
    # Tax-free 800 = 0x320 both.
    "tax-free-b2c": (B2C_CARRIER, {}, [_item("米", "1", "800", "3")], "00000320", "00000320"),
    # Mixed (TaxType 9), B2B: taxable 1050 with tax = 1000 + 50 tax; tax-free 2 x 100 = 200.
    # 未稅總金額 1000 + 200 = 1200 = 0x4b0; total 1250 = 0x4e2.
    "mixed-b2b": (
        B2B,
        {},
        [_item("應稅品", "1", "1050", "1"), _item("免稅品", "2", "100", "3")],
        "000004b0",
        "000004e2",
    ),
    # Mixed, B2C: taxable 105 with tax -> 100; tax-free 200: sales 300 = 0x12c; total 305 = 0x131.
    "mixed-b2c": (
        B2C_CARRIER,
        {},
        [_item("應稅品", "1", "105", "1"), _item("免稅品", "1", "200", "3")],
        "0000012c",
        "00000131",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_qr_sales_amount_is_the_total_before_tax(client, issuer, case):  # noqa: F811 - the fixture
    base, extra, items, sales_hex, total_hex = case
    response = _issue(client, issuer, {**base, **extra, "items": items})
    assert response.status_code == 201, response.body
    left = body_of(response)["qr_left"]
    assert (left[21:29], left[29:37]) == (sales_hex, total_hex)
