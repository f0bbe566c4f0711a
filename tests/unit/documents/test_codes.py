"""Example-based tests for the proof's code payloads (reference §6, §5, §1).

Expected values come from the reference (spec examples, the published AES vector) or are worked
out by hand in the test, never from the module under test.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from chalicelib.documents.codes import (
    ItemEncoding,
    QrInput,
    QrItem,
    barcode_content,
    display_number,
    masked_number,
    qr_pair,
    qr_verification,
)
from chalicelib.domain.errors import InvalidInput, RuleViolation

SPEC_KEY = "FE05F029154F6AA67A78B338ED2F6601"  # §6.5 published vector (ho600 docs)
SPEC_CIPHER = "CamotDNRUN8bVyY5S1BhFQ=="
SPEC_IV = base64.b64decode("Dt8lyToo17X/XkXaQvihuA==")
SOME_VERIFICATION = "0123456789abcdefABCDEF=="  # any well-formed 24-char Base64 block


def spec_example() -> QrInput:
    """§6.3 example: AB11223344 of 2013-05-23 (ROC 102), random 9999, sales 324, total 340."""
    return QrInput(
        invoice_number="AB11223344",
        invoice_date=date(2013, 5, 23),
        random_number="9999",
        sales_amount=Decimal(324),
        total_amount=Decimal(340),
        seller_ubn="01234567",
        items=(
            QrItem("乾電池", Decimal(1), Decimal(105)),
            QrItem("口罩", Decimal(1), Decimal(210)),
            QrItem("牛奶", Decimal(1), Decimal(25)),
        ),
    )


def item_fields(pair_left: str, pair_right: str) -> list[str]:
    """All item fields of both QRs: the left after its 4 header fields, then the right's."""
    left_tail = pair_left[78:].split(":")[4:]
    if pair_left.endswith(":"):
        left_tail = left_tail[:-1]
    right = pair_right[2:]
    return left_tail + (right.split(":") if right else [])


# --- 1D barcode ---------------------------------------------------------------------------------


class TestBarcode:
    def test_spec_example(self) -> None:
        # §6.2: invoice UZ17690872 of March 2015 (ROC 104, period 03-04 → 10404), random 0122.
        assert barcode_content("10404", "UZ17690872", "0122") == "10404UZ176908720122"

    def test_november_2024_period(self) -> None:
        # §1.2: 2024-11-05 → 11312 (the even closing month names the period).
        assert barcode_content("11312", "AB12345678", "0001") == "11312AB123456780001"

    @pytest.mark.parametrize(
        ("args", "field"),
        [
            (("11311", "AB12345678", "0001"), "period_code"),  # odd month
            (("11314", "AB12345678", "0001"), "period_code"),
            (("11300", "AB12345678", "0001"), "period_code"),
            (("00002", "AB12345678", "0001"), "period_code"),
            (("1131", "AB12345678", "0001"), "period_code"),
            (("１１３１２", "AB12345678", "0001"), "period_code"),  # full-width digits
            (("11312", "ab12345678", "0001"), "invoice_number"),
            (("11312", "AB1234567", "0001"), "invoice_number"),
            (("11312", "AB-12345678", "0001"), "invoice_number"),
            (("11312", "AB１２３４５６７８", "0001"), "invoice_number"),
            (("11312", "AB12345678", "12a4"), "random_number"),
            (("11312", "AB12345678", "123"), "random_number"),
            (("11312", "AB12345678", "٠١٢٣"), "random_number"),  # Arabic-Indic digits
        ],
    )
    def test_rejects_malformed_input(self, args: tuple[str, str, str], field: str) -> None:
        with pytest.raises(InvalidInput) as exc:
            barcode_content(*args)
        assert exc.value.field == field


# --- AES verification ---------------------------------------------------------------------------


class TestVerification:
    def test_published_vector(self) -> None:
        assert qr_verification("XF00001234", "9876", SPEC_KEY) == SPEC_CIPHER

    def test_lowercase_key_is_the_same_key(self) -> None:
        assert qr_verification("XF00001234", "9876", SPEC_KEY.lower()) == SPEC_CIPHER

    def test_decrypts_back_with_spec_iv(self) -> None:
        key = "00112233445566778899aabbccddeeff"
        token = qr_verification("AB11223344", "9999", key)
        assert len(token) == 24
        decryptor = Cipher(algorithms.AES(bytes.fromhex(key)), modes.CBC(SPEC_IV)).decryptor()
        padded = decryptor.update(base64.b64decode(token)) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        assert unpadder.update(padded) + unpadder.finalize() == b"AB112233449999"

    def test_cached_cipher_does_not_leak_between_keys(self) -> None:
        other = "00112233445566778899AABBCCDDEEFF"
        first = qr_verification("XF00001234", "9876", other)
        assert qr_verification("XF00001234", "9876", SPEC_KEY) == SPEC_CIPHER
        assert qr_verification("XF00001234", "9876", other) == first != SPEC_CIPHER

    @pytest.mark.parametrize(
        "key",
        [
            SPEC_KEY[:-1],
            SPEC_KEY + "0",
            "G" + SPEC_KEY[1:],
            " " + SPEC_KEY[1:],
            "",
            SPEC_KEY[:16],
        ],
    )
    def test_invalid_key(self, key: str) -> None:
        with pytest.raises(InvalidInput) as exc:
            qr_verification("XF00001234", "9876", key)
        assert exc.value.field == "qr_aes_key"
        if key:
            assert key not in exc.value.message  # the key is secret, even when malformed

    def test_invalid_invoice_number(self) -> None:
        with pytest.raises(InvalidInput) as exc:
            qr_verification("XF0000123", "9876", SPEC_KEY)
        assert exc.value.field == "invoice_number"


# --- left / right QR ----------------------------------------------------------------------------


class TestSpecExample:
    def test_left_and_right(self) -> None:
        pair = qr_pair(spec_example(), verification=SOME_VERIFICATION, max_left_items=1)
        expected_left = (
            "AB11223344"
            + "1020523"
            + "9999"
            + "00000144"
            + "00000154"
            + "00000000"
            + "01234567"
            + SOME_VERIFICATION
            + ":**********:3:3:1:乾電池:1:105:"
        )
        assert pair.left == expected_left
        assert pair.right == "**口罩:1:210:牛奶:1:25"
        assert (pair.items_in_left, pair.items_written, pair.items_total) == (1, 3, 3)

    def test_verification_computed_from_key(self) -> None:
        data = replace(spec_example(), invoice_number="XF00001234", random_number="9876")
        pair = qr_pair(data, key_hex=SPEC_KEY)
        assert pair.left[53:77] == SPEC_CIPHER

    def test_default_fills_left_first(self) -> None:
        pair = qr_pair(spec_example(), verification=SOME_VERIFICATION)
        assert pair.left.endswith(":**********:3:3:1:乾電池:1:105:口罩:1:210:牛奶:1:25")
        assert pair.right == "**"

    def test_all_items_on_the_right(self) -> None:
        # ho600's layout: nothing on the left, so the left ends with the flag and a ":".
        pair = qr_pair(spec_example(), verification=SOME_VERIFICATION, max_left_items=0)
        assert pair.left.endswith(":**********:3:3:1:")
        assert pair.right == "**乾電池:1:105:口罩:1:210:牛奶:1:25"

    def test_utf8_bytes(self) -> None:
        pair = qr_pair(spec_example(), verification=SOME_VERIFICATION, max_left_items=1)
        assert pair.right_bytes() == "**口罩:1:210:牛奶:1:25".encode()


class TestQrFields:
    def test_hex_amounts_are_lowercase(self) -> None:
        # 3000 = 0xBB8, 3150 = 0xC4E, worked out by hand.
        data = replace(spec_example(), sales_amount=Decimal(3000), total_amount=Decimal(3150))
        left = qr_pair(data, verification=SOME_VERIFICATION).left
        assert left[21:29] == "00000bb8"
        assert left[29:37] == "00000c4e"

    def test_largest_amount(self) -> None:
        data = replace(spec_example(), sales_amount=Decimal(0), total_amount=Decimal(4294967295))
        left = qr_pair(data, verification=SOME_VERIFICATION).left
        assert left[21:37] == "00000000ffffffff"

    def test_trailing_zero_decimal_amount_is_whole(self) -> None:
        data = replace(spec_example(), sales_amount=Decimal("324.00"), total_amount=Decimal("340.0"))
        assert qr_pair(data, verification=SOME_VERIFICATION).left[21:37] == "0000014400000154"

    @pytest.mark.parametrize(
        ("sales", "total", "field"),
        [
            (Decimal("324.5"), Decimal(340), "sales_amount"),
            (Decimal(-1), Decimal(340), "sales_amount"),
            (Decimal(324), Decimal(4294967296), "total_amount"),
            (Decimal("NaN"), Decimal(340), "sales_amount"),
            (Decimal(324), Decimal("Infinity"), "total_amount"),
            (324.0, Decimal(340), "sales_amount"),
        ],
    )
    def test_bad_amounts(self, sales: Decimal, total: Decimal, field: str) -> None:
        data = replace(spec_example(), sales_amount=sales, total_amount=total)
        with pytest.raises(InvalidInput) as exc:
            qr_pair(data, verification=SOME_VERIFICATION)
        assert exc.value.field == field

    def test_sales_above_total_is_a_rule_violation(self) -> None:
        data = replace(spec_example(), sales_amount=Decimal(341), total_amount=Decimal(340))
        with pytest.raises(RuleViolation) as exc:
            qr_pair(data, verification=SOME_VERIFICATION)
        assert exc.value.field == "sales_amount"

    def test_b2b_buyer(self) -> None:
        data = replace(spec_example(), buyer_ubn="12345675")
        assert qr_pair(data, verification=SOME_VERIFICATION).left[37:45] == "12345675"

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"buyer_ubn": "1234567"}, "buyer_ubn"),
            ({"buyer_ubn": ""}, "buyer_ubn"),
            ({"seller_ubn": "0123456X"}, "seller_ubn"),
            ({"invoice_number": "AB1122334"}, "invoice_number"),
            ({"random_number": "99999"}, "random_number"),
            ({"invoice_date": date(1911, 12, 31)}, "invoice_date"),
            ({"invoice_date": date(2911, 1, 1)}, "invoice_date"),
            ({"merchant_area": "*****"}, "merchant_area"),
            ({"merchant_area": "abcd:fghij"}, "merchant_area"),
            ({"merchant_area": "abcd fghij"}, "merchant_area"),
            ({"merchant_area": "一二三四五六七八九十"}, "merchant_area"),
            ({"items": (QrItem("x", Decimal("NaN"), Decimal(1)),)}, "items[0].quantity"),
            (
                {"items": (QrItem("x", Decimal(1), Decimal(1)), QrItem("y", Decimal(1), 1.5))},  # type: ignore[arg-type]
                "items[1].unit_price",
            ),
            ({"items": (QrItem("x", Decimal("1E+30"), Decimal(1)),)}, "items[0].quantity"),
            ({"items": (QrItem("x", Decimal(1), Decimal("1E-25")),)}, "items[0].unit_price"),
        ],
    )
    def test_rejects_malformed_input(self, changes: dict[str, object], field: str) -> None:
        data = replace(spec_example(), **changes)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput) as exc:
            qr_pair(data, verification=SOME_VERIFICATION)
        assert exc.value.field == field

    def test_roc_date_of_first_roc_year(self) -> None:
        data = replace(spec_example(), invoice_date=date(1912, 1, 1))
        assert qr_pair(data, verification=SOME_VERIFICATION).left[10:17] == "0010101"

    def test_custom_merchant_area(self) -> None:
        data = replace(spec_example(), merchant_area="a1b2c3d4e5")
        assert qr_pair(data, verification=SOME_VERIFICATION).left[77:89] == ":a1b2c3d4e5:"

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({}, "verification"),
            ({"key_hex": SPEC_KEY, "verification": SOME_VERIFICATION}, "verification"),
            ({"verification": SOME_VERIFICATION[:-1]}, "verification"),
            ({"verification": "=" * 24}, "verification"),
            ({"key_hex": "nope"}, "qr_aes_key"),
            ({"verification": SOME_VERIFICATION, "max_left_items": -1}, "max_left_items"),
        ],
    )
    def test_verification_arguments(self, kwargs: dict[str, object], field: str) -> None:
        with pytest.raises(InvalidInput) as exc:
            qr_pair(spec_example(), **kwargs)  # type: ignore[arg-type]
        assert exc.value.field == field


class TestItems:
    def one(self, item: QrItem, encoding: ItemEncoding = ItemEncoding.UTF8) -> str:
        data = replace(spec_example(), items=(item,), encoding=encoding)
        pair = qr_pair(data, verification=SOME_VERIFICATION)
        assert pair.items_written == 1
        return pair.left[78:]

    def test_no_items(self) -> None:
        pair = qr_pair(replace(spec_example(), items=()), verification=SOME_VERIFICATION)
        assert pair.left[77:] == ":**********:0:0:1"
        assert pair.right == "**"

    def test_single_item_has_no_trailing_colon(self) -> None:
        assert self.one(QrItem("乾電池", Decimal(1), Decimal(105))) == "**********:1:1:1:乾電池:1:105"

    def test_half_width_colon_becomes_full_width(self) -> None:
        assert self.one(QrItem("AB:CD::", Decimal(1), Decimal(10))).endswith(":AB：CD：：:1:10")

    def test_control_characters_are_stripped(self) -> None:
        name = "a\tb\nc\r\x00d\x7fe\x85f\u2028g\u2029h\ud800i"
        assert self.one(QrItem(name, Decimal(1), Decimal(10))).endswith(":abcdefghi:1:10")

    @pytest.mark.parametrize(
        ("value", "text"),
        [
            (Decimal("1.50"), "1.5"),
            (Decimal("2.000"), "2"),
            (Decimal("1E+2"), "100"),
            (Decimal("1.0E+3"), "1000"),
            (Decimal("-0"), "0"),
            (Decimal("0E-7"), "0"),
            (Decimal("0.0000001"), "0.0000001"),
            (Decimal("1E-7"), "0.0000001"),
            (Decimal("-5"), "-5"),
            (Decimal("95.2380952"), "95.2380952"),
            (Decimal("12345678901234567890"), "12345678901234567890"),
        ],
    )
    def test_plain_decimals(self, value: Decimal, text: str) -> None:
        assert self.one(QrItem("x", value, value)).endswith(f":x:{text}:{text}")

    def test_utf8_keeps_characters_outside_big5(self) -> None:
        pair = qr_pair(
            replace(spec_example(), items=(QrItem("𠀋😀碁", Decimal(1), Decimal(1)),)),
            verification=SOME_VERIFICATION,
        )
        assert pair.left.endswith(":1:1:1:𠀋😀碁:1:1")
        assert pair.left_bytes().decode("utf-8") == pair.left

    def test_big5_mode(self) -> None:
        items = (
            QrItem("乾電池😀", Decimal(1), Decimal(105)),
            QrItem("𠀋碁:€", Decimal(2), Decimal("9.5")),
        )
        pair = qr_pair(
            replace(spec_example(), items=items, encoding=ItemEncoding.BIG5),
            verification=SOME_VERIFICATION,
            max_left_items=1,
        )
        assert pair.left[77:] == ":**********:2:2:0:乾電池?:1:105:"
        assert pair.right == "**??：?:2:9.5"
        assert pair.left_bytes().decode("big5") == pair.left
        assert pair.right_bytes() == b"**??\xa1G?:2:9.5"  # ： is A1 47 in Big5

    def test_big5_writes_ambiguous_slashes_as_ascii(self) -> None:
        # ／ is A2 41 in plain Big5 but A1 FE in cp950; ＼ is A2 42 vs A2 40 (checked with Python's
        # codecs), so neither can be written unambiguously.
        item = QrItem("500ml／瓶＼", Decimal(1), Decimal(1))
        left = self.one(item, ItemEncoding.BIG5)
        assert left.endswith(":500ml/瓶\\:1:1")

    def test_items_that_do_not_fit_are_left_out(self) -> None:
        items = tuple(QrItem(f"露營用品第{i:03d}號標準品", Decimal(1), Decimal(10 + i)) for i in range(120))
        pair = qr_pair(replace(spec_example(), items=items), verification=SOME_VERIFICATION)
        fields = item_fields(pair.left, pair.right)
        assert 0 < pair.items_in_left < pair.items_written < 120
        assert pair.items_total == 120
        assert pair.left[78:].split(":")[1:3] == [str(pair.items_written), "120"]
        assert len(fields) == 3 * pair.items_written
        assert fields[::3] == [f"露營用品第{i:03d}號標準品" for i in range(pair.items_written)]
        assert pair.right.startswith(f"**露營用品第{pair.items_in_left:03d}號標準品:")
        assert len(pair.left_bytes()) <= 230
        assert len(pair.right_bytes()) <= 230

    def test_an_item_too_big_for_any_qr_stops_the_list(self) -> None:
        items = (QrItem("長" * 200, Decimal(1), Decimal(1)), QrItem("短", Decimal(1), Decimal(1)))
        pair = qr_pair(replace(spec_example(), items=items), verification=SOME_VERIFICATION)
        assert pair.left[77:] == ":**********:0:2:1"
        assert pair.right == "**"

    @pytest.mark.parametrize(("second", "written"), [(119, 2), (120, 1)])
    def test_right_qr_boundary(self, second: int, written: int) -> None:
        # "**" + "a"*100 + ":1:1" + ":" + "b"*n + ":1:1" = 2 + 104 + 1 + n + 4 bytes: 230 for n = 119.
        items = (QrItem("a" * 100, Decimal(1), Decimal(1)), QrItem("b" * second, Decimal(1), Decimal(1)))
        pair = qr_pair(replace(spec_example(), items=items), verification=SOME_VERIFICATION, max_left_items=0)
        assert pair.items_written == written
        assert len(pair.right_bytes()) == (230 if written == 2 else 106)

    @pytest.mark.parametrize(("length", "in_left"), [(130, 1), (131, 0)])
    def test_left_qr_boundary(self, length: int, in_left: int) -> None:
        # Header 77 + ":**********:2:2:1" (17) = 94 bytes; ":" + name + ":1:1" = length + 5; the
        # trailing ":" before the right QR's item makes 94 + 135 + 1 = 230 for length 130.
        items = (QrItem("a" * length, Decimal(1), Decimal(1)), QrItem("b", Decimal(1), Decimal(1)))
        pair = qr_pair(replace(spec_example(), items=items), verification=SOME_VERIFICATION)
        assert pair.items_in_left == in_left
        assert pair.items_written == 2
        if in_left:
            assert len(pair.left_bytes()) == 230
            assert pair.right == "**b:1:1"

    def test_item_that_misses_the_left_goes_right(self) -> None:
        # 40 CJK chars = 120 UTF-8 bytes, ":name:1:1" = 125 bytes. The header is 77 + 17 bytes
        # (":**********:2:2:1"), so one item fits on the left (94 + 125 + ":" <= 230) but not two
        # (94 + 250 > 230): the second opens the right QR.
        items = tuple(QrItem(c * 40, Decimal(1), Decimal(1)) for c in "甲乙")
        pair = qr_pair(replace(spec_example(), items=items), verification=SOME_VERIFICATION)
        assert pair.left.endswith(":2:2:1:" + "甲" * 40 + ":1:1:")
        assert pair.right == "**" + "乙" * 40 + ":1:1"


# --- printed number -----------------------------------------------------------------------------


class TestPrintedNumber:
    def test_display(self) -> None:
        assert display_number("AB12345678") == "AB-12345678"

    def test_masked_for_donation(self) -> None:
        assert masked_number("AB12345678") == "AB-12345***"

    @pytest.mark.parametrize("bad", ["AB-12345678", "ab12345678", "AB1234567", ""])
    def test_rejects_malformed(self, bad: str) -> None:
        for helper in (display_number, masked_number):
            with pytest.raises(InvalidInput) as exc:
                helper(bad)
            assert exc.value.field == "invoice_number"
