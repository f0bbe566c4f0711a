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
    from email import message_from_string
    from email.message import Message

    message: Message = message_from_string(raw)
    subject = str(message.get("Subject", ""))
    texts: list[str] = []
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                texts.append(payload.decode(part.get_content_charset() or "utf-8", errors="replace"))
    return subject, "\n".join(texts)


def read_outbox(settings: Settings) -> Outbox:
    endpoint = settings.ses_endpoint or settings.s3_endpoint
    if not endpoint:
        return Outbox(emails=[], sms=[])
    state = _moto_state(endpoint)
    emails = []
    for message in state.get("ses", {}).get("Message", []):
        destinations = message.get("destinations", {})
        to = list(destinations.get("ToAddresses", [])) if isinstance(destinations, dict) else []
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
                to=list(message.get("destinations", []) or []),
                subject=subject,
                body=body,
            )
        )
    sms = [
        SentSms(id=m.get("message_id", ""), phone_number=m.get("phone_number", ""), message=m.get("message", ""))
        for m in state.get("sns", {}).get("SMS", [])
    ]
    return Outbox(emails=emails, sms=sms)
