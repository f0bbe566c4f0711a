"""What each kind of pydantic error tells the user, in English and in zh-TW.

Pydantic's own messages name Python classes ("instance of IssueRequest") and exist in English only,
so none of them reaches a user: every error type pydantic can raise on a JSON request maps here to a
sentence that names the field and says what it expects. A type not listed gets a sentence that still
names the field; pydantic's text is never copied.

Field names are the API's JSON names (they are what a client sends); the Chinese sentence also
gives the field's Chinese label where one is known (``LABELS_ZH``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

#: The Chinese label of the request fields a user meets most. Keyed by the last name of the path.
LABELS_ZH: Mapping[str, str] = {
    "address": "地址",
    "allowance_date": "折讓日期",
    "allowance_number": "折讓單號碼",
    "amount": "金額",
    "begin_no": "起號",
    "buyer": "買受人",
    "buyer_ubn": "買受人統一編號",
    "captcha_answer": "驗證圖答案",
    "carrier": "載具",
    "certificate": "工商憑證",
    "code": "驗證碼",
    "cursor": "分頁游標",
    "customer_number": "客戶編號",
    "date_from": "起始日期",
    "date_to": "結束日期",
    "description": "品名",
    "donation_code": "捐贈碼",
    "email": "電子郵件",
    "end_no": "迄號",
    "id": "識別碼",
    "initial_password": "初始密碼",
    "invoice_date": "發票日期",
    "invoice_number": "發票號碼",
    "invoice_type": "發票類別",
    "items": "品項",
    "limit": "筆數上限",
    "low_stock_threshold": "剩餘號碼提醒門檻",
    "main_remark": "總備註",
    "mobile": "手機號碼",
    "name": "名稱",
    "new_password": "新密碼",
    "nonce": "挑戰碼",
    "order_id": "訂單編號",
    "original_invoice_number": "原發票號碼",
    "password": "密碼",
    "period": "期別",
    "person_in_charge": "負責人",
    "phone": "電話",
    "prices_include_tax": "單價是否含稅",
    "print": "是否列印證明聯",
    "qr_aes_key": "QR Code 加密金鑰",
    "quantity": "數量",
    "reason": "原因",
    "receivers": "接收方式",
    "remark": "備註",
    "scopes": "權限範圍",
    "settings": "設定",
    "signature": "簽章",
    "status": "狀態",
    "tax_type": "課稅別",
    "telephone": "電話",
    "track": "字軌",
    "type": "類型",
    "ubn": "統一編號",
    "unit": "單位",
    "unit_price": "單價",
    "username": "帳號",
}

Described = tuple[str, str, str]  # code, English, zh-TW


def _names(loc: Sequence[int | str], path: str) -> tuple[str, str]:
    """The field as the English sentence names it, and as the Chinese one does."""
    if not path:
        return "the request body", "請求內容"
    last = next((part for part in reversed(loc) if isinstance(part, str)), "")
    label = LABELS_ZH.get(last)
    return f"`{path}`", (f"「{label}」（{path}）" if label else f"欄位 {path}")


def _choices_zh(expected: str) -> str:
    """pydantic's ``'1', '2' or '3'`` as a Chinese list: ``'1'、'2'、'3'``."""
    return re.sub(r",\s*|\s+or\s+", "、", expected)


def _fixed(code: str, en: str, zh: str) -> Callable[[str, str, dict[str, Any]], Described]:
    return lambda field, label, ctx: (code, en.format(field=field, **ctx), zh.format(label=label, **ctx))


_NUMBER = _fixed(
    "INVALID_TYPE", '{field} must be a number, e.g. "65" or "12.5".', '{label}須為數字，例如 "65" 或 "12.5"。'
)
_INTEGER = _fixed("INVALID_TYPE", "{field} must be a whole number.", "{label}須為整數。")
_TEXT = _fixed("INVALID_TYPE", "{field} must be text (a JSON string).", "{label}須為文字（JSON 字串）。")
_BOOLEAN = _fixed("INVALID_TYPE", "{field} must be true or false.", "{label}須為 true 或 false。")
_DATE = _fixed(
    "INVALID_TYPE",
    "{field} must be a date written YYYY-MM-DD, e.g. 2025-03-17.",
    "{label}須為日期，格式為 YYYY-MM-DD，例如 2025-03-17。",
)
_DATETIME = _fixed(
    "INVALID_TYPE",
    "{field} must be a date and time in ISO 8601, e.g. 2025-03-17T09:30:00+08:00.",
    "{label}須為 ISO 8601 日期時間，例如 2025-03-17T09:30:00+08:00。",
)
_TIME = _fixed("INVALID_TYPE", "{field} must be a time written HH:MM:SS.", "{label}須為時間，格式為 HH:MM:SS。")
_LIST = _fixed("INVALID_TYPE", "{field} must be a list (a JSON array).", "{label}須為清單（JSON 陣列）。")
_OBJECT = _fixed(
    "INVALID_TYPE", "{field} must be a JSON object with named fields.", "{label}須為 JSON 物件（含欄位名稱）。"
)


def _empty_or_short(field: str, label: str, ctx: dict[str, Any]) -> Described:
    limit = ctx.get("min_length", 1)
    if limit <= 1:
        return "EMPTY_VALUE", f"{field} must not be empty.", f"{label}不可為空白。"
    return "TOO_SHORT", f"{field} needs at least {limit} characters.", f"{label}至少需要 {limit} 個字元。"


def _choice(field: str, label: str, ctx: dict[str, Any], last: str) -> Described:
    expected = str(ctx.get("expected", ""))
    code = f"INVALID_{last.upper()}" if last else "INVALID_VALUE"
    return code, f"{field} must be one of {expected}.", f"{label}須為下列之一：{_choices_zh(expected)}。"


_BY_TYPE: Mapping[str, Callable[[str, str, dict[str, Any]], Described]] = {
    "missing": _fixed("MISSING_FIELD", "{field} is required.", "{label}為必填欄位。"),
    "extra_forbidden": _fixed(
        "UNKNOWN_FIELD", "{field} is not a field of this request; remove it.", "{label}不是此請求的欄位，請移除。"
    ),
    "string_too_short": _empty_or_short,
    "string_too_long": _fixed(
        "TOO_LONG", "{field} is at most {max_length} characters.", "{label}最多 {max_length} 個字元。"
    ),
    "too_long": _fixed(
        "TOO_MANY_ITEMS", "{field} holds at most {max_length} entries.", "{label}最多 {max_length} 筆。"
    ),
    "too_short": _fixed(
        "TOO_FEW_ITEMS", "{field} needs at least {min_length} entries.", "{label}至少需要 {min_length} 筆。"
    ),
    "string_type": _TEXT,
    "string_sub_type": _TEXT,
    "string_unicode": _TEXT,
    "int_type": _INTEGER,
    "int_parsing": _INTEGER,
    "int_parsing_size": _INTEGER,
    "int_from_float": _INTEGER,
    "float_type": _NUMBER,
    "float_parsing": _NUMBER,
    "decimal_type": _NUMBER,
    "decimal_parsing": _NUMBER,
    "finite_number": _fixed("INVALID_VALUE", "{field} must be a finite number.", "{label}須為有限的數字。"),
    "bool_type": _BOOLEAN,
    "bool_parsing": _BOOLEAN,
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "timezone_aware": _fixed(
        "INVALID_VALUE", "{field} needs a UTC offset, e.g. +08:00.", "{label}須含時區，例如 +08:00。"
    ),
    "time_type": _TIME,
    "time_parsing": _TIME,
    "list_type": _LIST,
    "tuple_type": _LIST,
    "set_type": _LIST,
    "frozen_set_type": _LIST,
    "iterable_type": _LIST,
    "dict_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "dataclass_type": _OBJECT,
    "none_required": _fixed("INVALID_VALUE", "{field} must be null.", "{label}須為 null。"),
    "string_pattern_mismatch": _fixed(
        "INVALID_FORMAT",
        "{field} does not have the expected format ({pattern}).",
        "{label}格式不符（須符合 {pattern}）。",
    ),
    "greater_than": _fixed("OUT_OF_RANGE", "{field} must be greater than {gt}.", "{label}須大於 {gt}。"),
    "greater_than_equal": _fixed("OUT_OF_RANGE", "{field} must be at least {ge}.", "{label}須大於或等於 {ge}。"),
    "less_than": _fixed("OUT_OF_RANGE", "{field} must be less than {lt}.", "{label}須小於 {lt}。"),
    "less_than_equal": _fixed("OUT_OF_RANGE", "{field} must be at most {le}.", "{label}須小於或等於 {le}。"),
    "multiple_of": _fixed(
        "INVALID_VALUE", "{field} must be a multiple of {multiple_of}.", "{label}須為 {multiple_of} 的倍數。"
    ),
    "decimal_max_digits": _fixed(
        "TOO_MANY_DIGITS", "{field} has at most {max_digits} digits.", "{label}最多 {max_digits} 位數。"
    ),
    "decimal_max_places": _fixed(
        "TOO_MANY_DIGITS",
        "{field} has at most {decimal_places} decimal places.",
        "{label}小數最多 {decimal_places} 位。",
    ),
    "decimal_whole_digits": _fixed(
        "TOO_MANY_DIGITS",
        "{field} has at most {whole_digits} digits before the decimal point.",
        "{label}整數部分最多 {whole_digits} 位。",
    ),
    "uuid_type": _fixed("INVALID_FORMAT", "{field} must be a UUID.", "{label}須為 UUID。"),
    "uuid_parsing": _fixed("INVALID_FORMAT", "{field} must be a UUID.", "{label}須為 UUID。"),
    "url_type": _fixed("INVALID_FORMAT", "{field} must be a URL.", "{label}須為網址（URL）。"),
    "url_parsing": _fixed("INVALID_FORMAT", "{field} must be a URL.", "{label}須為網址（URL）。"),
    "url_scheme": _fixed("INVALID_FORMAT", "{field} must be an https URL.", "{label}須為 https 網址。"),
    "json_invalid": _fixed("MALFORMED_JSON", "{field} is not valid JSON.", "{label}不是有效的 JSON。"),
    "json_type": _TEXT,
    "union_tag_not_found": _fixed(
        "MISSING_FIELD", "{field} needs its {discriminator} field.", "{label}須含 {discriminator} 欄位。"
    ),
    "union_tag_invalid": _fixed(
        "INVALID_VALUE",
        "{field}: {discriminator} must be one of {expected_tags}.",
        "{label}的 {discriminator} 須為下列之一：{expected_tags}。",
    ),
}


def describe(kind: str, loc: Sequence[int | str], path: str, ctx: dict[str, Any]) -> Described:
    """Code and both sentences for one pydantic error of type ``kind`` at ``loc`` (``path`` dotted)."""
    field, label = _names(loc, path)
    if kind in {"enum", "literal_error"}:
        last = next((part for part in reversed(loc) if isinstance(part, str)), "")
        return _choice(field, label, ctx, last)
    describer = _BY_TYPE.get(kind)
    if describer is not None:
        try:
            return describer(field, label, {key: _shown(value) for key, value in ctx.items()})
        except (KeyError, IndexError):  # a context without the value the sentence names
            pass
    # A validator's own ValueError, or a type not listed: name the field, never pydantic's words.
    return "INVALID_VALUE", f"{field} has a value this field does not accept.", f"{label}的值不符合此欄位的規定。"


def _shown(value: Any) -> Any:
    """A context value as a sentence shows it: exceptions (value_error's ``error``) are not shown."""
    return value if isinstance(value, str | int | float) else str(value)
