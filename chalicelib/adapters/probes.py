"""Health probes for DynamoDB and S3, with short timeouts so /health answers when they hang."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.adapters.aws import client
from chalicelib.settings import get_settings


@dataclass
class DynamoDBProbe:
    name: str = "dynamodb"

    def check(self) -> None:
        settings = get_settings()
        dynamodb = client("dynamodb", probe=True)
        for table in (
            settings.merchants_table,
            settings.tracks_table,
            settings.invoices_table,
            settings.idempotency_table,
        ):
            dynamodb.describe_table(TableName=table)


@dataclass
class S3Probe:
    name: str = "s3"

    def check(self) -> None:
        client("s3", probe=True).head_bucket(Bucket=get_settings().artifacts_bucket)
