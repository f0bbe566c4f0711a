"""Mail that failed for good: reading Amazon SES's bounce notifications (delivered through SNS).

Every invoice mail carries ``X-Einvoice-Invoice: <seller UBN>/<invoice number>``; SES copies the
original headers into its notification (the identity's "include original headers" setting, see
docs/webhooks.md), so a bounce names the invoice it is about without any look-up table. Only a
*permanent* bounce is a failure for good: a transient one (mailbox full, greylisting) is retried by
SES itself and may still arrive. Format: SES Developer Guide, "Amazon SES notification contents"
(``notificationType``, ``bounce.bounceType``, ``bounce.bouncedRecipients``, ``mail.headers``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

INVOICE_HEADER = "X-Einvoice-Invoice"
_REFERENCE = re.compile(r"^(\d{8})/([A-Z]{2}\d{8})$")
MAX_REASON = 300


def invoice_reference(ubn: str, number: str) -> str:
    return f"{ubn}/{number}"


@dataclass(frozen=True)
class Bounce:
    ubn: str
    invoice_number: str
    recipients: tuple[str, ...]
    bounce_type: str
    bounce_sub_type: str
    reason: str
    feedback_id: str
    at: datetime


def _header(mail: dict[str, Any], name: str) -> str | None:
    headers = mail.get("headers")
    for header in headers if isinstance(headers, list) else []:
        if isinstance(header, dict) and str(header.get("name", "")).lower() == name.lower():
            return str(header.get("value", "")).strip()
    return None


def _aware(value: Any) -> datetime | None:
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else None


def permanent_bounce(message: str) -> Bounce | None:
    """The permanent bounce of an invoice mail in SES notification ``message`` (the SNS message's
    text), or None for anything else: other notification types, transient bounces, mail that is not
    an invoice's, or text that is not a notification at all (SNS topics may carry other things)."""
    try:
        body = json.loads(message)
    except (TypeError, ValueError):
        return None
    if not isinstance(body, dict) or body.get("notificationType") != "Bounce":
        return None
    bounce, mail = body.get("bounce"), body.get("mail")
    if not isinstance(bounce, dict) or not isinstance(mail, dict) or bounce.get("bounceType") != "Permanent":
        return None
    reference = _REFERENCE.match(_header(mail, INVOICE_HEADER) or "")
    at = _aware(bounce.get("timestamp"))
    if reference is None or at is None:
        return None
    listed = bounce.get("bouncedRecipients")
    recipients = listed if isinstance(listed, list) else []
    addresses = tuple(str(r.get("emailAddress")) for r in recipients if isinstance(r, dict) and r.get("emailAddress"))
    reasons = [str(r.get("diagnosticCode")) for r in recipients if isinstance(r, dict) and r.get("diagnosticCode")]
    return Bounce(
        ubn=reference.group(1),
        invoice_number=reference.group(2),
        recipients=addresses,
        bounce_type=str(bounce.get("bounceType")),
        bounce_sub_type=str(bounce.get("bounceSubType") or ""),
        reason=("; ".join(reasons) or str(bounce.get("bounceSubType") or "bounced"))[:MAX_REASON],
        feedback_id=str(bounce.get("feedbackId") or ""),
        at=at,
    )
