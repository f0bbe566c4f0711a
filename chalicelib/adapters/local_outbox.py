"""Read what the platform "sent" in local runs: moto keeps every SES mail and SNS SMS.

Only meaningful against moto's server (``/moto-api/data.json``); on AWS there is nothing to read,
and the route that uses this answers 404 outside the local stage.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from pydantic import BaseModel

from chalicelib.settings import Settings


class SentEmail(BaseModel):
    id: str
    source: str
    to: list[str]
    subject: str
    body: str


class SentSms(BaseModel):
    id: str
    phone_number: str
    message: str


class Outbox(BaseModel):
    emails: list[SentEmail]
    sms: list[SentSms]


def _moto_state(endpoint: str) -> dict[str, Any]:
    if not endpoint.startswith(("http://127.", "http://localhost")):
        raise ValueError("the local outbox is only read from a loopback moto server")
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=5) as response:  # noqa: S310
        state: dict[str, Any] = json.loads(response.read())
    return state


def _raw_email_parts(raw: str) -> tuple[str, str]:
    """Subject and plain-text body of a raw MIME mail, decoded as a mail reader shows them.

    moto hands the raw mail back as text. Parsed as text, an 8bit UTF-8 body comes out of
    ``get_payload(decode=True)`` as ``raw-unicode-escape`` bytes (literal ``\\uXXXX``) and the
    subject stays RFC 2047 encoded (``=?utf-8?b?...?=``); parsed as the bytes it was sent as, with
    the modern policy, both read as the sender wrote them."""
    from email import message_from_bytes, policy

    message = message_from_bytes(raw.encode("utf-8", "surrogateescape"), policy=policy.default)
    subject = str(message.get("Subject", ""))
    texts: list[str] = []
    for part in message.walk():
        if part.get_content_type() == "text/plain" and not part.is_attachment():
            texts.append(str(part.get_content()))
    return subject, "\n".join(texts).replace("\r\n", "\n")


def _once_each(addresses: list[str]) -> list[str]:
    """moto records a raw mail's envelope ``Destinations`` and its ``To`` header both: one each."""
    return list(dict.fromkeys(addresses))


def read_outbox(settings: Settings) -> Outbox:
    endpoint = settings.ses_endpoint or settings.s3_endpoint
    if not endpoint:
        return Outbox(emails=[], sms=[])
    state = _moto_state(endpoint)
    emails = []
    for message in state.get("ses", {}).get("Message", []):
        destinations = message.get("destinations", {})
        to = _once_each(list(destinations.get("ToAddresses", []))) if isinstance(destinations, dict) else []
        emails.append(
            SentEmail(
                id=message["id"],
                source=message.get("source", ""),
                to=to,
                subject=message.get("subject", ""),
                body=message.get("body", ""),
            )
        )
    for message in state.get("ses", {}).get("RawMessage", []):
        subject, body = _raw_email_parts(message.get("raw_data", ""))
        emails.append(
            SentEmail(
                id=message["id"],
                source=message.get("source", ""),
                to=_once_each(list(message.get("destinations", []) or [])),
                subject=subject,
                body=body,
            )
        )
    sms = [
        SentSms(id=m.get("message_id", ""), phone_number=m.get("phone_number", ""), message=m.get("message", ""))
        for m in state.get("sns", {}).get("SMS", [])
    ]
    return Outbox(emails=emails, sms=sms)
