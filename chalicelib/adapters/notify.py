"""Email through SES and SMS through SNS (moto's server locally, so mail is really sent)."""

from __future__ import annotations

from chalicelib.adapters.aws import client
from chalicelib.settings import get_settings


class SesMailer:
    def send(self, to: str, subject: str, body: str) -> str:
        response = client("ses").send_email(
            Source=get_settings().mail_from,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
            },
        )
        return str(response["MessageId"])


class SnsSms:
    def send(self, phone_number: str, message: str) -> str:
        response = client("sns").publish(
            PhoneNumber=phone_number,
            Message=message,
            MessageAttributes={
                # Codes and invoice notices are transactional: SNS then prefers reliable routes.
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
            },
        )
        return str(response["MessageId"])
