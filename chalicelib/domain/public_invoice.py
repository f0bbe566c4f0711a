"""What a buyer sees of an invoice on the public look-up page, and the link to its proof.

The buyer's personal data is masked the way the value-added centers' mail links show it (ECPay,
Amego): a name keeps its first and last character, an e-mail its first two and its domain, a
carrier id its first two and last character. A business buyer's UBN is printed on the invoice
itself, so it is shown.

The proof link is a token that names one invoice version and expires: ``<number>.<expires>.<mac>``,
the MAC over the seller, the number, its current random number and the expiry. A void and
re-issue (註銷重開) gives the number a new random number, so links to the earlier version stop
working; nobody can make one without the key, and none works after ``expires`` (epoch seconds).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import date
from urllib.parse import urlencode

#: How long a proof link works after the look-up that gave it.
PROOF_LINK_SECONDS = 600

_TOKEN = re.compile(r"([A-Z]{2}[0-9]{8})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})")


def mask_name(name: str) -> str:
    """``王小明`` → ``王*明``, ``陳明`` → ``陳*``, ``Jane Doe`` → ``J******e``."""
    text = name.strip()
    if len(text) <= 1:
        return "*" if text else ""
    if len(text) == 2:  # a two-character name keeps only its first
        return text[0] + "*"
    return text[0] + "*" * (len(text) - 2) + text[-1]


def mask_email(address: str) -> str:
    """``chen.xiaoming@example.com`` → ``ch***@example.com``."""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return mask_name(address)
    return f"{local[:2]}***@{domain}"


def mask_carrier_id(carrier_id: str) -> str:
    """``/ABC+123`` → ``/A*****3``."""
    text = carrier_id.strip()
    if len(text) <= 3:
        return "*" * len(text)
    return text[:2] + "*" * (len(text) - 3) + text[-1]


def lookup_link(public_url: str, number: str, random_number: str, invoice_date: date) -> str:
    """The look-up page filled in for one invoice, as the buyer's mail links to it. It holds what
    the mail itself tells the buyer; it opens the invoice only while that pair is right."""
    query = urlencode({"invoice_number": number, "random_number": random_number, "invoice_date": invoice_date})
    return f"{public_url.rstrip('/')}/lookup?{query}"


def _mac(key: bytes, seller_ubn: str, number: str, random_number: str, expires: int) -> str:
    message = f"invoice-proof-link|{seller_ubn}|{number}|{random_number}|{expires}".encode()
    return base64.urlsafe_b64encode(hmac.new(key, message, hashlib.sha256).digest()).rstrip(b"=").decode()


def proof_token(key: bytes, seller_ubn: str, number: str, random_number: str, expires: int) -> str:
    return f"{number}.{expires}.{_mac(key, seller_ubn, number, random_number, expires)}"


def token_number(token: str) -> tuple[str, int] | None:
    """The invoice number and expiry a well-formed token names (not yet checked); None otherwise."""
    match = _TOKEN.fullmatch(token)
    return (match.group(1), int(match.group(2))) if match else None


def token_matches(key: bytes, token: str, seller_ubn: str, random_number: str, now: int) -> bool:
    """Whether ``token`` was made for this invoice version and has not expired (constant time)."""
    named = token_number(token)
    if named is None:
        return False
    number, expires = named
    expected = proof_token(key, seller_ubn, number, random_number, expires)
    return hmac.compare_digest(expected.encode(), token.encode()) and now < expires
