"""Invoice delivery to the buyer: a MIME email through SES, a text through SNS, each tried once.

Unlike ``notify.py`` (codes and alerts, where a repeat is harmless) these clients never retry by
themselves: botocore retries a read timeout, and a timed-out ``SendRawEmail`` may well have been
sent. The outbox decides about retries instead, and needs to know whether a failure means "not
sent" (safe to try again now) or "maybe sent" (wait for the lease, see services/outbox.py):
a failure that certainly happened before the provider accepted the message raises ``NotSent``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError

from chalicelib.adapters.aws import new_client
from chalicelib.domain.delivery import NotSent
from chalicelib.settings import get_settings

# One attempt; a generous read timeout, because a timeout is the one failure we cannot classify.
_ONCE = Config(connect_timeout=2, read_timeout=20, retries={"max_attempts": 1})


@lru_cache(maxsize=16)
def _client(service: str, region: str, endpoint: str | None) -> Any:
    return new_client(service, region, endpoint, _ONCE)


def _once(service: str) -> Any:
    settings = get_settings()
    endpoint = settings.ses_endpoint if service == "ses" else settings.sns_endpoint
    return _client(service, settings.region, endpoint)


def _classified(call: Any, **kwargs: Any) -> Any:
    try:
        return call(**kwargs)
    except ClientError as error:  # an answer from the provider: it did not take the message
        raise NotSent(f"{error.response.get('Error', {}).get('Code')}: {error}") from error
    except (EndpointConnectionError, ConnectTimeoutError) as error:  # no connection, nothing sent
        raise NotSent(str(error)) from error


class SesRawMail:
    def send(self, to: str, raw_message: bytes) -> str:
        response = _classified(
            _once("ses").send_raw_email,
            Source=get_settings().mail_from,
            Destinations=[to],
            RawMessage={"Data": raw_message},
        )
        return str(response["MessageId"])


class SnsText:
    def send(self, phone_number: str, message: str) -> str:
        response = _classified(
            _once("sns").publish,
            PhoneNumber=phone_number,
            Message=message,
            MessageAttributes={
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
            },
        )
        return str(response["MessageId"])
