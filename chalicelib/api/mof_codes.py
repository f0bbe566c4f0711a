"""Our error codes → the MOF's official result codes (財政部電子發票平台處理結果代碼).

The platform answers the same conditions the MOF platform would refuse; where one of our codes
means one of its result codes, the error body carries it as ``mof_code`` beside our ``code``, so a
client that already handles Turnkey's ProcessResult can use the same table. Codes and texts are from
``mof-error-codes.tsv`` (Turnkey 3.2.0's message bundle); an error with no official counterpart
carries no ``mof_code``. docs/mof-codes.md lists this table for users.
"""

from __future__ import annotations

from types import MappingProxyType

# our code → (MOF code, its zh-TW text, its English text); the texts are the official ones.
_TABLE: dict[str, tuple[str, str, str]] = {
    # E0102 發票字軌號碼非申購部分 / E0113 專用字軌已被其他營業人使用
    "NUMBER_NOT_ALLOCATED": (
        "E0102",
        "發票字軌號碼非申購部分",
        "The alphabetic letters number of uniform invoice is not the purchased part.",
    ),
    "FOREIGN_ALLOCATION": (
        "E0113",
        "專用字軌已被其他營業人使用",
        "The dedicated alphabetic letters has been occupied by another business entity.",
    ),
    # An overlap with one's own range is E0612; with another merchant's, the adapter sets E0113.
    "TRACK_RANGE_OVERLAP": (
        "E0612",
        "發票號碼區間已存在重疊區間",
        "The intervals of the invoice number are overlapped.",
    ),
    # E0105 發票總金額不得為零 (E0103 is set by the MIG intake on its AMOUNT_MISMATCH: the same
    # code also names a payment notice that does not match, which has no MOF counterpart)
    "ZERO_AMOUNT_INVOICE": ("E0105", "發票總金額不得為零", "The total amount of invoice cannot be zero."),
    # E0112 非零稅率通關方式註記不可填 / E0228 零稅率發票的通關方式註記欄位必填
    "ZERO_TAX_FIELDS_NOT_ALLOWED": (
        "E0112",
        "非零稅率通關方式註記不可填",
        "The non-zero-tax-rate clearance shall be left blank.",
    ),
    "ZERO_TAX_FIELDS_REQUIRED": (
        "E0228",
        "零稅率發票的通關方式註記欄位必填",
        "The note for the clearance for zero-tax-rate invoices is required.",
    ),
    # E0201 訊息重複: the same number (or order) sent again with other content
    "NUMBER_ALREADY_USED": ("E0201", "訊息重複", "Message is repeated."),
    "ALLOWANCE_NUMBER_TAKEN": ("E0201", "訊息重複", "Message is repeated."),
    "ORDER_ALREADY_INVOICED": ("E0201", "訊息重複", "Message is repeated."),
    # E0205 開立折讓證明單資料不存在, E0229 發票資料不存在
    "INVOICE_NOT_FOUND": ("E0229", "發票資料不存在", "Invoice data does not exist."),
    "ALLOWANCE_NOT_FOUND": (
        "E0205",
        "開立折讓證明單資料不存在",
        "The information for issuing allowance certificate does not exist.",
    ),
    # E0208 資料非當期: numbers of an ended period
    "PERIOD_CLOSED": ("E0208", "資料非當期", "Data is not current."),
    # E0209 發票日期及票號必須依序
    "NOT_NEXT_NUMBER": ("E0209", "發票日期及票號必須依序", "Invoice dates and number must be in sequence."),
    "ALLOWANCE_BEFORE_INVOICE": ("E0209", "發票日期及票號必須依序", "Invoice dates and number must be in sequence."),
    # E0213 發票無法作廢，請查明發票狀態
    "CANCEL_DEADLINE_PASSED": (
        "E0213",
        "發票無法作廢，請查明發票狀態",
        "The invoice cannot be cancelled; check the invoice status.",
    ),
    "INVOICE_HAS_ALLOWANCES": (
        "E0213",
        "發票無法作廢，請查明發票狀態",
        "The invoice cannot be cancelled; check the invoice status.",
    ),
    "HAS_ALLOWANCES": (
        "E0213",
        "發票無法作廢，請查明發票狀態",
        "The invoice cannot be cancelled; check the invoice status.",
    ),
    # E0218 折讓單無法作廢，請查明折讓單狀態
    "ALLOWANCE_ALREADY_CANCELLED": (
        "E0218",
        "折讓單無法作廢，請查明折讓單狀態",
        "The allowance cannot be cancelled; check the allowance status.",
    ),
    # E0221 折讓金額大於發票銷售額減已折讓金額
    "ALLOWANCE_EXCEEDS_INVOICE": (
        "E0221",
        "折讓金額大於發票銷售額減已折讓金額",
        "The allowance amount is greater than the sales amount on the invoice minus the amount allowed.",
    ),
    # E0225 特種發票稅率應為2%,5%,15%,25%
    "INVALID_SPECIAL_TAX_RATE": (
        "E0225",
        "特種發票稅率應為2%,5%,15%,25%",
        "The tax rates for special invoices shall be 2%,5%,15% and25%",
    ),
    # E0303 系統沒有該類型交易代號
    "UNKNOWN_MESSAGE_TYPE": (
        "E0303",
        "系統沒有該類型交易代號",
        "This type of transaction code does not exist in the system.",
    ),
    "MIG_MESSAGE_TYPE": (
        "E0303",
        "系統沒有該類型交易代號",
        "This type of transaction code does not exist in the system.",
    ),
    # E1002 發票開立日期不得過早: the platform issues with today's date only
    "INVOICE_DATE_NOT_TODAY": ("E1002", "發票開立日期不得過早", "The invoice issuing date shall not be too early."),
}

_FORMAT = ("E0304", "XML原文格式不符", "XML text format is incorrect.")
_CONTENT = ("E0305", "XML原文資料內容檢核失敗", "The check of XML text contents failed.")
_UNPARSABLE = ("E0306", "XML原文無法解析", "The XML text cannot be parsed.")

# MIG XML refused on intake: E0304 where the structure is wrong (an element missing, unexpected,
# repeated, in the wrong place or namespace), E0305 where a value is wrong, E0306 unreadable XML.
for _code in (
    "MIG_SCHEMA_FORMAT",
    "MIG_FIELD_REQUIRED",
    "MIG_FIELD_UNKNOWN",
    "MIG_FIELD_ORDER",
    "MIG_FIELD_COUNT",
    "MIG_XML_ROOT",
    "MIG_XML_NAMESPACE",
    "MIG_XML_FORBIDDEN",
):
    _TABLE[_code] = _FORMAT
for _code in (
    "MIG_SCHEMA_CONTENT",
    "MIG_FIELD_TOO_LONG",
    "MIG_FIELD_TOO_SHORT",
    "MIG_FIELD_PATTERN",
    "MIG_FIELD_ENUM",
    "MIG_FIELD_DIGITS",
    "MIG_FIELD_RANGE",
    "MIG_FIELD_TYPE",
    "MIG_FIELD_CHARSET",
):
    _TABLE[_code] = _CONTENT
_TABLE["MIG_XML_MALFORMED"] = _UNPARSABLE

#: our code → (MOF code, zh-TW text, English text), read-only.
MOF_CODES = MappingProxyType(_TABLE)


#: Result codes a raiser may set on the error itself (``DomainError.mof_code``), with their texts.
OVERRIDES = MappingProxyType(
    {
        "E0103": ("E0103", "發票明細加總與總金額不符", "Sum of uniform invoices does not match the total amount."),
        "E0113": (
            "E0113",
            "專用字軌已被其他營業人使用",
            "The dedicated alphabetic letters has been occupied by another business entity.",
        ),
    }
)


def mof_code_for(code: str, override: str | None = None) -> str | None:
    """The official result code our ``code`` stands for (or the raiser's ``override``), if any."""
    if override:
        return override
    entry = MOF_CODES.get(code)
    return entry[0] if entry else None
