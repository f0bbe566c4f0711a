"""Issuing channels (開立通路): where invoices are issued, each with its own booklets.

``online`` is a person on the web console, ``api`` an ERP over the API, ``pos:<device>`` one till.
Giving every channel its own booklets means two tills never wait on one number counter, and the
numbers of each booklet still run in order.
"""

from __future__ import annotations

import re

from chalicelib.domain.errors import InvalidInput

ONLINE = "online"
API = "api"
_POS = re.compile(r"pos:[A-Za-z0-9_-]{1,32}")


def validate_channel(value: object, field: str = "channel") -> str:
    if isinstance(value, str) and (value in {ONLINE, API} or _POS.fullmatch(value)):
        return value
    raise InvalidInput(
        "INVALID_CHANNEL",
        "A channel is 'online', 'api' or 'pos:<device>' (device: 1-32 letters, digits, '_' or '-')",
        "開立通路須為 online、api 或 pos:<裝置代號>（1 至 32 個英數字、_ 或 -）",
        field,
    )
