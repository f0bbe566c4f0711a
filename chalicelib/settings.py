"""Settings: a pydantic model read from the environment on first use, never at import.

Chalice's test client sets a stage's environment variables only while a request runs, and
Lambda sets them before the first invocation; reading lazily serves both.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_MAIL_FROM = "noreply@einvoice.local"
Stage = Literal["local", "dev", "prod"]


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    stage: Stage = "local"
    region: str = "ap-northeast-1"
    merchants_table: str = "einvoice-local-merchants"
    tracks_table: str = "einvoice-local-tracks"
    invoices_table: str = "einvoice-local-invoices"
    idempotency_table: str = "einvoice-local-idempotency"
    artifacts_bucket: str = "einvoice-local-artifacts"
    # Endpoint overrides: set for DynamoDB Local and moto, unset (None) on AWS.
    dynamodb_endpoint: str | None = None
    s3_endpoint: str | None = None
    ses_endpoint: str | None = None
    sns_endpoint: str | None = None
    sqs_endpoint: str | None = None
    ssm_endpoint: str | None = None
    mail_from: str = DEFAULT_MAIL_FROM
    # Where buyers open the platform: the invoice mail links to its public look-up page there.
    # Empty means no link: a deployed stage's address (its custom domain) is known only once it is
    # deployed, and a mail linking to a wrong host is worse than none. `make run` sets its own.
    public_url: str = ""
    # Root secret for token signatures, one-time code hashes, API-key pepper, cursors and the
    # secrets sealed at rest (each gets its own derived key). Deployed stages name an SSM
    # SecureString (``SECRET_KEY_PARAMETER``, read once per container); `make run` and the tests
    # set it directly.
    secret_key: str | None = Field(default=None, min_length=32)
    secret_key_parameter: str | None = None
    # PEM bundle of the certificate authorities whose business certificates (工商憑證) may sign
    # up: the MOEA CA in production; tests and `make run` generate their own.
    trusted_ca_pems: str | None = None
    trusted_ca_file: str | None = None
    # Lambda refuses synchronous payloads over 6 MB; refuse earlier with a clear 413.
    max_body_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    # One outgoing webhook attempt waits this long for the receiver's answer.
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=30)
    # Multiplies every rate limit (api/rate_limits.py): 1 in every stage; the test suite raises it
    # so that its thousands of requests from one address are not refused, and the rate-limit tests
    # lower it to reach a limit in a few requests.
    rate_limit_scale: float = Field(default=1.0, gt=0, le=100_000)

    @property
    def is_local(self) -> bool:
        return self.stage == "local"


_ENV = {
    "stage": "STAGE",
    "region": "AWS_REGION",
    "merchants_table": "MERCHANTS_TABLE",
    "tracks_table": "TRACKS_TABLE",
    "invoices_table": "INVOICES_TABLE",
    "idempotency_table": "IDEMPOTENCY_TABLE",
    "artifacts_bucket": "ARTIFACTS_BUCKET",
    "dynamodb_endpoint": "AWS_ENDPOINT_URL_DYNAMODB",
    "s3_endpoint": "AWS_ENDPOINT_URL_S3",
    "ses_endpoint": "AWS_ENDPOINT_URL_SES",
    "sns_endpoint": "AWS_ENDPOINT_URL_SNS",
    "sqs_endpoint": "AWS_ENDPOINT_URL_SQS",
    "ssm_endpoint": "AWS_ENDPOINT_URL_SSM",
    "mail_from": "MAIL_FROM",
    "public_url": "PUBLIC_URL",
    "max_body_bytes": "MAX_BODY_BYTES",
    "webhook_timeout_s": "WEBHOOK_TIMEOUT_S",
    "rate_limit_scale": "RATE_LIMIT_SCALE",
    "secret_key": "SECRET_KEY",
    "secret_key_parameter": "SECRET_KEY_PARAMETER",
    "trusted_ca_pems": "TRUSTED_CA_PEMS",
    "trusted_ca_file": "TRUSTED_CA_FILE",
}


def _from_environment() -> Settings:
    values = {name: os.environ[var] for name, var in _ENV.items() if os.environ.get(var)}
    return Settings.model_validate(values)


@lru_cache(maxsize=1)
def _cached(fingerprint: tuple[str | None, ...]) -> Settings:
    return _from_environment()


def get_settings() -> Settings:
    """Current settings; cheap to call per request, re-read when the environment changes."""
    return _cached(tuple(os.environ.get(var) for var in _ENV.values()))
