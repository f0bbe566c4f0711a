"""The QR capacity limit: re-measured with segno, and the paper geometry behind it.

Agreed limit: version 9 at error level L in byte mode (see the comment on ``QR_MAX_VERSION``).
The numbers below are measured or derived here, not read from the module.
"""

from __future__ import annotations

import functools

import pytest
import segno

from chalicelib.documents import codes
from chalicelib.documents.codes import ItemEncoding, qr_matrix_fits

AGREED_VERSION = 9


@functools.cache
def largest_byte_payload(version: int) -> int:
    """Binary search for the longest byte payload segno fits at ``version``, error level L."""

    def fits(size: int) -> bool:
        try:
            segno.make_qr(b"a" * size, mode="byte", error="L", version=version, boost_error=False, mask=0)
        except segno.DataOverflowError:
            return False
        return True

    low, high = 0, 3000  # version 40-L holds 2953 bytes
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(middle) else (low, middle - 1)
    return low


def test_constants_match_the_agreed_limit() -> None:
    assert codes.QR_MAX_VERSION == AGREED_VERSION
    assert codes.QR_ERROR_LEVEL == "L"
    assert largest_byte_payload(AGREED_VERSION) == codes.QR_MAX_BYTES


def test_two_symbols_fit_the_printable_width() -> None:
    # 58 mm printer, 203 dpi: 384 dots = 48 mm. 3 dots a module, 2 mm quiet zone on every side of
    # each symbol, the middle quiet zones not shared: 2 + W + 4 + W + 2 <= 48.
    def width_mm(version: int) -> float:
        modules = 17 + 4 * version
        return 2 * modules * 3 / 8 + 8

    assert width_mm(AGREED_VERSION) <= 48 < width_mm(AGREED_VERSION + 1)
    assert (17 + 4 * AGREED_VERSION) * 3 / 8 >= 15  # symbol at least 1.5 cm (§6.1)


def test_matrix_fits_at_the_boundary() -> None:
    limit = largest_byte_payload(AGREED_VERSION)
    assert qr_matrix_fits(b"a" * limit)
    assert not qr_matrix_fits(b"a" * (limit + 1))
    assert qr_matrix_fits("a" * limit)
    # 76 CJK characters are 228 UTF-8 bytes but only 152 Big5 bytes.
    assert qr_matrix_fits("中" * 76)
    assert not qr_matrix_fits("中" * 77)
    assert qr_matrix_fits("中" * 115, ItemEncoding.BIG5)
    assert not qr_matrix_fits("中" * 116, ItemEncoding.BIG5)


def test_matrix_does_not_fit_a_string_its_codec_cannot_encode() -> None:
    assert not qr_matrix_fits("😀", ItemEncoding.BIG5)
    assert qr_matrix_fits("😀", ItemEncoding.UTF8)


@pytest.mark.parametrize("payload", [b"", b"**", "é".encode()])
def test_small_payloads_fit(payload: bytes) -> None:
    assert qr_matrix_fits(payload)
