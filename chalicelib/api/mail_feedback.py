"""SES's bounce notifications, delivered through SNS: the Lambda that records mail failed for good.

The SES identity that sends invoice mail publishes its bounce notifications (with original headers)
to the stage's ``einvoice-<stage>-mail-feedback`` topic; this function subscribes to it.
"""

from __future__ import annotations

import os

from chalice.app import Blueprint, SNSEvent

from chalicelib.observability import logger

bp = Blueprint(__name__)

# Read at import, like the outbox queue's name: the deployment needs the topic when the decorator runs.
MAIL_FEEDBACK_TOPIC = f"einvoice-{os.environ.get('STAGE') or 'local'}-mail-feedback"


def handle_feedback_message(message: str) -> bool:
    """What the function does with one SNS message; True when it recorded a new bounce."""
    from chalicelib.adapters.dynamo_bounces import DynamoBounces
    from chalicelib.services.delivery_failures import DeliveryFailures

    recorded = DeliveryFailures(store=DynamoBounces()).handle(message)
    if recorded:
        logger.info("permanent bounce recorded")
    return recorded


@bp.on_sns_message(topic=MAIL_FEEDBACK_TOPIC, name="handle_mail_feedback")
def handle_mail_feedback(event: SNSEvent) -> None:
    handle_feedback_message(event.message)
