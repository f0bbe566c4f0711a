"""Code payloads printed on the e-invoice proof (電子發票證明聯): 1D barcode, left/right QR.

Everything here is a pure function of primitive, already-stored invoice values: the proof must
reproduce what was uploaded, so callers pass the *stored* numbers and amounts, never recomputed
ones (reference §10.7). Source of truth: ``einvoice-domain.md`` §6 (財政資訊中心「電子發票證明聯
一維及二維條碼規格說明」v1.9 as quoted) and §5 (donated invoices).

Public API:

* :func:`barcode_content` (§6.2), the 19-character Code 39 text;
* :func:`qr_verification` (§6.5), the 24-character AES verification field;
* :func:`qr_pair` (§6.3/§6.4), the left and right QR payloads from a :class:`QrInput`;
* :func:`qr_matrix_fits`, whether a payload encodes within :data:`QR_MAX_VERSION`;
* :func:`display_number` / :func:`masked_number` (§1.1/§5), the printed invoice number.

Rendering (PNG/SVG/PDF) lives elsewhere; this module only builds and sizes the payloads.
"""

from __future__ import annotations

import base64
import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from chalicelib.domain.errors import InvalidInput, RuleViolation

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

__all__ = [
    "DEFAULT_MERCHANT_AREA",
    "LEFT_FIXED_LENGTH",
    "QR_ERROR_LEVEL",
    "QR_MAX_BYTES",
    "QR_MAX_VERSION",
    "QR_MIN_VERSION",
    "RIGHT_QR_PREFIX",
    "ItemEncoding",
    "QrInput",
    "QrItem",
    "QrPair",
    "barcode_content",
    "display_number",
    "masked_number",
    "qr_matrix_fits",
    "qr_pair",
    "qr_verification",
]

# --- QR capacity ------------------------------------------------------------------------------
#
# Both QR symbols sit side by side on a 57 mm thermal roll (§6.1). A 58 mm printer at 203 dpi
# (8 dots/mm) prints 384 dots = 48 mm. Each symbol needs a quiet zone of at least 2 mm on every
# side (§6.1, v1.9 "0.2 cm ±10 %"); we do not let the two quiet zones overlap in the middle, so
# the horizontal budget is 2 + W + 4 + W + 2 <= 48 mm, i.e. W <= 20 mm per symbol. A module of
# 3 printer dots (0.375 mm) is the smallest we trust phone cameras to read off thermal paper:
#   version 9  = 53 modules x 0.375 mm = 19.9 mm  -> 2 + 19.9 + 4 + 19.9 + 2 = 47.75 mm (fits)
#   version 10 = 57 modules x 0.375 mm = 21.4 mm  -> 50.75 mm (does not fit)
# and 19.9 mm also honours the 1.5 cm minimum symbol size. Error correction L, byte mode: L gives
# the most data per module, and fitting the items matters more here than recovering a damaged
# symbol (our trade-off; the reference names no level). Measured with segno 1.6.6:
# ``segno.make_qr(b"a" * n, mode="byte", error="L", version=9, boost_error=False)`` succeeds for
# n = 230 and raises DataOverflowError for n = 231 (version 10 would hold 271).
# tests/unit/documents/test_codes_capacity.py re-measures it.
QR_MAX_VERSION: Final = 9
# And never smaller than version 6 (41 x 41 modules): barcode spec v1.8 (電子發票證明聯一維及二維
# 條碼規格說明) 「左方二維條碼使用QR Code V6(含)以上版本，並採用 Level L(容錯率7%)以上」. The right
# symbol is drawn at the left's version (pdf._common.qr_symbols), so it is version 6 or more too.
QR_MIN_VERSION: Final = 6
QR_ERROR_LEVEL: Final = "L"
QR_MAX_BYTES: Final = 230

LEFT_FIXED_LENGTH: Final = 77
"""Invoice no. 10 + ROC date 7 + random 4 + sales 8 + total 8 + buyer 8 + seller 8 + cipher 24."""

DEFAULT_MERCHANT_AREA: Final = "*" * 10
RIGHT_QR_PREFIX: Final = "**"
_CONSUMER_UBN: Final = "00000000"
_MAX_AMOUNT: Final = 0xFFFFFFFF  # 8 hex digits

# Digits are spelled [0-9], not \d: \d also matches non-ASCII digits such as "٣" or "３".
_INVOICE_NUMBER_RE: Final = re.compile(r"[A-Z]{2}[0-9]{8}")
_RANDOM_RE: Final = re.compile(r"[0-9]{4}")
_UBN_RE: Final = re.compile(r"[0-9]{8}")
_PERIOD_RE: Final = re.compile(r"[0-9]{3}(?:02|04|06|08|10|12)")
_AES_KEY_RE: Final = re.compile(r"[0-9A-Fa-f]{32}")
_VERIFICATION_RE: Final = re.compile(r"[A-Za-z0-9+/]{22}==")  # Base64 of one 16-byte block
# Printable ASCII without the field separator ":" and without space (scanners may trim it).
_MERCHANT_AREA_RE: Final = re.compile(r"[!-9;-~]{10}")

# §6.5: the IV is a public constant from the MOF reference code (hex 0edf25c93a28d7b5ff5e45da42f8a1b8).
_QR_AES_IV: Final = base64.b64decode("Dt8lyToo17X/XkXaQvihuA==")

# Bounds on item quantities and prices, only to keep rendering finite (a Decimal like 1E+999999999
# would otherwise be expanded to a billion digits). The domain validates the real MIG limits.
_MAX_INTEGER_DIGITS: Final = 20
_MAX_FRACTION_DIGITS: Final = 20

# Unicode categories removed from item names: Cc control characters (NUL, TAB, CR, LF, DEL, C1),
# Cs lone surrogates (cannot be encoded at all, e.g. from a JSON "\ud800" escape), and the
# Zl/Zp line and paragraph separators that some readers treat as line breaks.
_STRIPPED_CATEGORIES: Final = frozenset({"Cc", "Cs", "Zl", "Zp"})

# Full-width ／ and ＼ encode to different bytes in Big5 (A2 41, A2 42) and cp950 (A1 FE, A2 40),
# so a reader using the other table would show another character: write them as ASCII.
_BIG5_AMBIGUOUS: Final = {"／": "/", "＼": "\\"}


class ItemEncoding(StrEnum):
    """中文編碼參數, the left QR's flag saying how item names are encoded (§6.3).

    ``2`` (Base64) exists in the spec but is not offered: our reference does not say which part
    of the payload is Base64-encoded, and UTF-8 covers every name anyway.
    """

    BIG5 = "0"
    UTF8 = "1"

    @property
    def codec(self) -> str:
        """Python codec used for the QR bytes.

        Big5 is Python's strict ``big5`` table, not ``cp950``: cp950's extras (碁 銹 恒 裏 €)
        would decode as garbage or fail in a reader that implements plain Big5, whereas plain
        Big5 bytes decode the same in both, except ／ and ＼, which the two tables place at
        different bytes and which we therefore write as ASCII ``/`` and ``\\``. Any other
        character outside plain Big5 is written as ``?``.
        """
        return "big5" if self is ItemEncoding.BIG5 else "utf-8"


@dataclass(frozen=True, slots=True)
class QrItem:
    """One product line as written in the QR: ``name:quantity:unit_price``."""

    name: str
    quantity: Decimal
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class QrInput:
    """The stored invoice values the QR pair is built from.

    ``sales_amount`` is the 銷售額, which the barcode spec defines as the invoice's 未稅總金額 (total
    before tax), and ``total_amount`` the total (總計額), both whole NT$. 未稅總金額 means every
    tax type together: taxable sales without their tax plus the zero-rated (零稅率) and tax-free
    (免稅) sales. It is tax-exclusive for B2C too, not the tax-inclusive MIG ``SalesAmount``: the
    spec's example encodes sales 324 with total 340 for a consumer invoice (einvoice-domain.md
    corrections, B2C reading confirmed). Callers compute it
    (``services.invoice_building.qr_sales_amount``).

    ``buyer_ubn`` is ``None`` for a consumer (written as ``00000000``).
    """

    invoice_number: str
    invoice_date: date
    random_number: str
    sales_amount: Decimal
    total_amount: Decimal
    seller_ubn: str
    buyer_ubn: str | None = None
    items: tuple[QrItem, ...] = ()
    merchant_area: str = DEFAULT_MERCHANT_AREA
    encoding: ItemEncoding = ItemEncoding.UTF8


@dataclass(frozen=True, slots=True)
class QrPair:
    """The two QR payloads. Encode them with :meth:`left_bytes` / :meth:`right_bytes`.

    ``items_written`` (條碼記載品目筆數) counts the items in both QRs; ``items_total``
    (發票品目總筆數) is every item on the invoice. The first ``items_in_left`` items are in the
    left QR, the next ``items_written - items_in_left`` in the right one.
    """

    left: str
    right: str
    items_in_left: int
    items_written: int
    items_total: int
    encoding: ItemEncoding

    def left_bytes(self) -> bytes:
        return self.left.encode(self.encoding.codec)

    def right_bytes(self) -> bytes:
        return self.right.encode(self.encoding.codec)


# --- validation helpers -----------------------------------------------------------------------


def _require(pattern: re.Pattern[str], value: object, *, field: str, code: str, message: str, message_zh: str) -> str:
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise InvalidInput(code, message, message_zh, field)
    return value


def _invoice_number(value: object, field: str = "invoice_number") -> str:
    return _require(
        _INVOICE_NUMBER_RE,
        value,
        field=field,
        code="INVALID_INVOICE_NUMBER",
        message="Invoice number must be 2 uppercase letters and 8 digits, e.g. AB12345678",
        message_zh="發票號碼須為 2 碼大寫英文加 8 碼數字，例如 AB12345678",
    )


def _random_number(value: object) -> str:
    return _require(
        _RANDOM_RE,
        value,
        field="random_number",
        code="INVALID_RANDOM_NUMBER",
        message="Random number must be 4 digits",
        message_zh="隨機碼須為 4 碼數字",
    )


def _ubn(value: object, field: str) -> str:
    return _require(
        _UBN_RE,
        value,
        field=field,
        code="INVALID_UBN",
        message="Unified business number must be 8 digits",
        message_zh="統一編號須為 8 碼數字",
    )


def _amount_hex(value: object, field: str) -> str:
    """Whole non-negative NT$ as 8 lowercase hex digits (``ToString("x8")``), e.g. 324 → 00000144."""
    if (
        not isinstance(value, Decimal)
        or not value.is_finite()
        or value != value.to_integral_value()
        or not 0 <= value <= _MAX_AMOUNT
    ):
        raise InvalidInput(
            "INVALID_AMOUNT",
            f"Amount must be a whole number of NT$ between 0 and {_MAX_AMOUNT}",
            f"金額須為 0 至 {_MAX_AMOUNT} 之整數新臺幣",
            field,
        )
    return f"{int(value):08x}"


def _roc_date(value: object) -> str:
    """Invoice date as ROC ``YYYMMDD`` (year − 1911, three digits)."""
    if not isinstance(value, date) or not 1 <= value.year - 1911 <= 999:
        raise InvalidInput(
            "INVALID_DATE",
            "Invoice date must be a date in ROC years 1 to 999",
            "發票日期須為民國 1 至 999 年之日期",
            "invoice_date",
        )
    return f"{value.year - 1911:03d}{value.month:02d}{value.day:02d}"


def _plain_decimal(value: object, field: str) -> str:
    """A quantity or price as a plain decimal: no exponent, no trailing zeros, ``-0`` as ``0``."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidInput("INVALID_NUMBER", "Value must be a finite decimal", "數值須為有限之十進位數", field)
    if value.is_zero():
        return "0"
    normal = value.normalize()
    exponent = normal.as_tuple().exponent  # an int: the value is finite
    if normal.adjusted() >= _MAX_INTEGER_DIGITS or (isinstance(exponent, int) and -exponent > _MAX_FRACTION_DIGITS):
        raise InvalidInput(
            "INVALID_NUMBER",
            f"Value must have at most {_MAX_INTEGER_DIGITS} integer and {_MAX_FRACTION_DIGITS} decimal digits",
            f"數值整數位不得超過 {_MAX_INTEGER_DIGITS} 位、小數位不得超過 {_MAX_FRACTION_DIGITS} 位",
            field,
        )
    return format(normal, "f")


def _item_name(name: str, encoding: ItemEncoding) -> str:
    """An item name made safe for the colon-separated QR tail.

    * A half-width ``:`` would split the name into extra fields and shift every later
      ``name:qty:price`` triplet, so it becomes the full-width ``：`` (U+FF1A). The spec allows
      ``：`` or ``-``; ``：`` keeps the name readable and exists in Big5 too.
    * Control characters, lone surrogates and line separators are dropped (see
      ``_STRIPPED_CATEGORIES``).
    * In Big5 mode a character Big5 cannot encode (emoji, 𠀋, cp950-only 碁) becomes ``?``,
      and ／ ＼ become ASCII ``/`` ``\\`` (see ``_BIG5_AMBIGUOUS``).
    """
    kept = ("：" if ch == ":" else ch for ch in name if unicodedata.category(ch) not in _STRIPPED_CATEGORIES)
    if encoding is ItemEncoding.UTF8:
        return "".join(kept)
    return "".join(_BIG5_AMBIGUOUS.get(ch) or (ch if _big5_encodable(ch) else "?") for ch in kept)


@functools.lru_cache(maxsize=4096)
def _big5_encodable(ch: str) -> bool:
    try:
        ch.encode(ItemEncoding.BIG5.codec)
    except UnicodeEncodeError:
        return False
    return True


# --- 1D barcode (§6.2) ------------------------------------------------------------------------


def barcode_content(period_code: str, invoice_number: str, random_number: str) -> str:
    """The 19-character Code 39 text: period ``YYYMM`` (even month) + invoice number + random.

    ``period_code`` names the period by its closing (even) month: an invoice of March 2015 has
    period ``10404``, one of 2024-11-05 ``11312`` (§1.2).
    """
    period = _require(
        _PERIOD_RE,
        period_code,
        field="period_code",
        code="INVALID_PERIOD_CODE",
        message="Period code must be the ROC year (3 digits) and the even closing month, e.g. 11312",
        message_zh="期別須為民國年 3 碼加雙數月 2 碼，例如 11312",
    )
    if period.startswith("000"):
        raise InvalidInput("INVALID_PERIOD_CODE", "Period code year cannot be 000", "期別年度不得為 000", "period_code")
    return period + _invoice_number(invoice_number) + _random_number(random_number)


# --- AES verification field (§6.5) ------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _cipher(key: bytes) -> Cipher[modes.CBC]:
    # A Cipher is immutable and hands out a fresh context per encryptor(), so one per merchant key
    # can be shared across calls and threads. Imported lazily: cryptography is heavy at cold start.
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    return Cipher(algorithms.AES(key), modes.CBC(_QR_AES_IV))


def qr_verification(invoice_number: str, random_number: str, key_hex: str) -> str:
    """The 24-character verification field: Base64(AES-128-CBC(invoice number + random)).

    ``key_hex`` is the merchant's 32-hex-character QR code key (Turnkey ``genKey``). The IV is the
    fixed public constant of the spec, so the result is deterministic by design.
    """
    plain = (_invoice_number(invoice_number) + _random_number(random_number)).encode("ascii")
    if not isinstance(key_hex, str) or _AES_KEY_RE.fullmatch(key_hex) is None:
        # Never echo the key back: it is a secret even when malformed.
        raise InvalidInput(
            "INVALID_QR_AES_KEY",
            "QR code AES key must be 32 hexadecimal characters",
            "QR Code 加密金鑰須為 32 碼十六進位字元",
            "qr_aes_key",
        )
    from cryptography.hazmat.primitives import padding

    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()  # 14 bytes -> exactly one block
    encryptor = _cipher(bytes.fromhex(key_hex)).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")


# --- QR payloads (§6.3, §6.4) -----------------------------------------------------------------


def _left_fixed(data: QrInput, verification: str) -> str:
    buyer = _CONSUMER_UBN if data.buyer_ubn is None else _ubn(data.buyer_ubn, "buyer_ubn")
    sales = _amount_hex(data.sales_amount, "sales_amount")
    total = _amount_hex(data.total_amount, "total_amount")
    if data.sales_amount > data.total_amount:
        raise RuleViolation(
            "SALES_EXCEEDS_TOTAL",
            "Sales amount cannot exceed the total amount",
            "銷售額不得大於總計額",
            "sales_amount",
        )
    fixed = (
        _invoice_number(data.invoice_number)
        + _roc_date(data.invoice_date)
        + _random_number(data.random_number)
        + sales
        + total
        + buyer
        + _ubn(data.seller_ubn, "seller_ubn")
        + verification
    )
    return fixed


def qr_pair(
    data: QrInput,
    *,
    key_hex: str | None = None,
    verification: str | None = None,
    max_left_items: int | None = None,
) -> QrPair:
    """Build the left and right QR payloads.

    Give exactly one of ``key_hex`` (the verification field is computed with
    :func:`qr_verification`) or ``verification`` (a precomputed 24-character field, e.g. stored at
    issue time or the spec example's).

    Left: the 77 fixed characters, then ``:merchant area:items written:items total:encoding`` and
    the first items as ``:name:qty:price``. Right: ``**`` then the following items, joined by
    ``:``. Read together, left-after-the-flag plus right-after-``**`` is one colon-separated list,
    so the left ends with ``:`` exactly when the right carries items (spec example
    ``…:1:乾電池:1:105:`` + ``**口罩:1:210:牛奶:1:25``).

    Each payload stays within :data:`QR_MAX_BYTES` in the chosen encoding. Items fill the left QR
    in order, then the right one; at the first item that fits in neither, it and every later item
    are left out (the spec allows unrecorded items; ``items_written`` says how many were written).

    ``max_left_items`` caps the items put in the left QR (``None``: as many as fit). The spec
    example puts 1 item on the left and 2 on the right; ho600 puts none on the left. The split is
    a layout choice, the reader joins both halves either way.
    """
    if max_left_items is not None and (
        isinstance(max_left_items, bool) or not isinstance(max_left_items, int) or max_left_items < 0
    ):
        raise InvalidInput(
            "INVALID_MAX_LEFT_ITEMS",
            "max_left_items must be a non-negative integer",
            "左方 QR Code 品目上限須為非負整數",
            "max_left_items",
        )
    if (key_hex is None) == (verification is None):
        raise InvalidInput(
            "INVALID_VERIFICATION",
            "Pass exactly one of an AES key or a precomputed verification field",
            "須提供加密金鑰或已計算之驗證資訊其中之一",
            "verification",
        )
    if key_hex is not None:
        verification = qr_verification(data.invoice_number, data.random_number, key_hex)
    elif not isinstance(verification, str) or _VERIFICATION_RE.fullmatch(verification) is None:
        raise InvalidInput(
            "INVALID_VERIFICATION",
            "Verification field must be 24 Base64 characters",
            "加密驗證資訊須為 24 碼 Base64 字元",
            "verification",
        )
    if not isinstance(data.encoding, ItemEncoding):
        raise InvalidInput("INVALID_ENCODING", "Unknown item encoding", "未知的中文編碼參數", "encoding")
    merchant_area = _require(
        _MERCHANT_AREA_RE,
        data.merchant_area,
        field="merchant_area",
        code="INVALID_MERCHANT_AREA",
        message="Merchant area must be 10 printable ASCII characters without ':' or spaces",
        message_zh="營業人自用區須為 10 碼可列印 ASCII 字元，不含冒號及空白",
    )
    fixed = _left_fixed(data, verification)

    codec = data.encoding.codec
    triplets = [
        ":".join(
            (
                _item_name(item.name, data.encoding),
                _plain_decimal(item.quantity, f"items[{i}].quantity"),
                _plain_decimal(item.unit_price, f"items[{i}].unit_price"),
            )
        )
        for i, item in enumerate(data.items)
    ]
    sizes = [len(t.encode(codec)) for t in triplets]
    total = len(triplets)

    # Left budget. The written count is unknown until the right QR is filled, so reserve as many
    # digits as the total has (written <= total), and always reserve the trailing ":" that is
    # needed when the right QR carries items. Both make the estimate an upper bound.
    used = len(f"{fixed}:{merchant_area}:{total}:{total}:{data.encoding.value}") + 1
    in_left = 0
    left_cap = len(sizes) if max_left_items is None else min(max_left_items, len(sizes))
    for size in sizes[:left_cap]:
        if used + 1 + size > QR_MAX_BYTES:
            break
        used += 1 + size
        in_left += 1

    used = len(RIGHT_QR_PREFIX)
    written = in_left
    for size in sizes[in_left:]:
        extra = size + (1 if written > in_left else 0)
        if used + extra > QR_MAX_BYTES:
            break
        used += extra
        written += 1

    left_items = "".join(f":{t}" for t in triplets[:in_left])
    continues = ":" if written > in_left else ""
    left = f"{fixed}:{merchant_area}:{written}:{total}:{data.encoding.value}{left_items}{continues}"
    right = RIGHT_QR_PREFIX + ":".join(triplets[in_left:written])
    return QrPair(
        left=left,
        right=right,
        items_in_left=in_left,
        items_written=written,
        items_total=total,
        encoding=data.encoding,
    )


def qr_matrix_fits(payload: str | bytes, encoding: ItemEncoding = ItemEncoding.UTF8) -> bool:
    """Whether ``payload`` encodes as a byte-mode QR at error level L within :data:`QR_MAX_VERSION`.

    A ``str`` is encoded with ``encoding``'s codec first (a string it cannot encode does not fit);
    ``bytes`` are taken as they are. Passing bytes to segno matters: given a ``str`` it would pick
    ISO-8859-1 over UTF-8 whenever it can, changing the bytes a reader sees.
    """
    import segno

    if isinstance(payload, str):
        try:
            payload = payload.encode(encoding.codec)
        except UnicodeEncodeError:
            return False
    try:
        # mask=0 skips scoring the 8 masks (5x faster); capacity does not depend on the mask.
        symbol = segno.make_qr(payload, mode="byte", error=QR_ERROR_LEVEL, boost_error=False, mask=0)
    except segno.DataOverflowError:
        return False
    return isinstance(symbol.version, int) and symbol.version <= QR_MAX_VERSION


# --- printed invoice number (§1.1, §5) --------------------------------------------------------


def display_number(invoice_number: str) -> str:
    """The number as printed on the proof: ``AB12345678`` → ``AB-12345678``."""
    number = _invoice_number(invoice_number)
    return f"{number[:2]}-{number[2:]}"


def masked_number(invoice_number: str) -> str:
    """The number of a donated invoice with its last 3 digits hidden: ``AB-12345***`` (§5)."""
    return display_number(invoice_number)[:-3] + "***"
