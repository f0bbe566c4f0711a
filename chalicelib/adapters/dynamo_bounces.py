"""A permanent bounce recorded on its invoice, with its ``delivery.failed`` event, in one transaction.

The invoice's ``delivery.email`` gets ``status=bounced`` and the bounce's detail, its history an
entry, and an ``event:delivery.failed`` outbox item (named by the invoice and the SES feedback id)
is written alongside: the same notification delivered twice by SNS finds that item and changes
nothing, and a bounce for mail we have no record of (another stage's, a deleted test merchant's)
changes nothing either.
"""

from __future__ import annotations

import hashlib
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import cancellation_reasons, dynamodb, key, to_item
from chalicelib.adapters.dynamo_invoices import event_outbox_put, invoice_sort_key, invoices_table, owner
from chalicelib.domain.events import DELIVERY_FAILED
from chalicelib.domain.mail_feedback import Bounce


def bounce_subject(bounce: Bounce) -> str:
    """The outbox subject of a bounce: its invoice and (a digest of) the SES feedback id."""
    digest = hashlib.sha256(bounce.feedback_id.encode()).hexdigest()[:12]
    return f"{bounce.invoice_number}-{digest}"


class DynamoBounces:
    def record(self, bounce: Bounce, payload: dict[str, Any]) -> bool:
        """True when this call recorded the bounce (with its event's outbox item)."""
        at = bounce.at.isoformat()
        detail = {
            "recipients": list(bounce.recipients),
            "type": bounce.bounce_type,
            "sub_type": bounce.bounce_sub_type,
            "reason": bounce.reason,
            "at": at,
        }
        entry = {"at": at, "event": "email_bounced", "actor": "system", "detail": detail}
        subject = bounce_subject(bounce)
        actions = [
            {
                "Update": {
                    "TableName": invoices_table(),
                    "Key": key(owner(bounce.ubn), invoice_sort_key(bounce.invoice_number)),
                    "UpdateExpression": (
                        "SET delivery.email.#status = :bounced, delivery.email.bounce = :detail, "
                        "history = list_append(history, :entry)"
                    ),
                    # Only mail we sent: an invoice whose email step recorded a send.
                    "ConditionExpression": "attribute_exists(delivery.email.message_id)",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": to_item({":bounced": "bounced", ":detail": detail, ":entry": [entry]}),
                }
            },
            event_outbox_put(bounce.ubn, subject, DELIVERY_FAILED, payload, at),
        ]
        try:
            dynamodb().transact_write_items(TransactItems=actions)
        except ClientError as error:
            if cancellation_reasons(error):
                return False
            raise
        return True
