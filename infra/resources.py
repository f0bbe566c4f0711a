"""The platform's tables, bucket, topic and stream consumer, defined once.

The same definitions create the resources on DynamoDB Local and moto for `make run` and the
tests, and become CloudFormation resources merged into `chalice package`'s template, so the
local shape cannot drift from what is deployed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from chalicelib.adapters.dynamo_outbox_stream import STREAM_FILTER

PROJECT = "einvoice"


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str
    # Why each index exists, so that nobody adds a Scan "just for now".
    serves: str
    # ALL copies every attribute; KEYS_ONLY only the keys (the reader then gets the item itself).
    projection: str = "ALL"


@dataclass(frozen=True)
class Table:
    logical_id: str
    env_var: str
    suffix: str
    partition_key: str
    sort_key: str | None
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    stream: bool = False
    serves: str = ""
    extra_attributes: tuple[str, ...] = field(default=())

    def name(self, stage: str) -> str:
        return f"{PROJECT}-{stage}-{self.suffix}"


TABLES: tuple[Table, ...] = (
    Table(
        logical_id="MerchantsTable",
        env_var="MERCHANTS_TABLE",
        suffix="merchants",
        partition_key="pk",
        sort_key="sk",
        indexes=(Index("gsi1", "gsi1pk", "gsi1sk", "credential look-ups: API key id, staff username, email"),),
        # Nonces, one-time codes and sessions carry an expiry; DynamoDB deletes them after it.
        ttl_attribute="ttl",
        serves="merchant profiles, credentials, receivers, API keys, tax registry, staff, audit log",
    ),
    Table(
        logical_id="TracksTable",
        env_var="TRACKS_TABLE",
        suffix="tracks",
        partition_key="pk",
        sort_key="sk",
        indexes=(Index("gsi1", "gsi1pk", "gsi1sk", "ranges of a period across merchants for staff"),),
        serves="track (字軌) ranges, booklets, per-channel number counters, overlap guards",
    ),
    Table(
        logical_id="InvoicesTable",
        env_var="INVOICES_TABLE",
        suffix="invoices",
        partition_key="pk",
        sort_key="sk",
        indexes=(
            Index("gsi1", "gsi1pk", "gsi1sk", "a merchant's invoices by date (period and date-range queries)"),
            Index("gsi2", "gsi2pk", "gsi2sk", "invoices received by a buyer UBN (進項)"),
            # Numbers are unique across sellers (track ranges never overlap), so the buyer's public
            # look-up finds an invoice by its number alone. Keyed on the attribute every invoice
            # item already has (so no backfill); the invoice is the item whose sk is INV#<number>
            # (order ids, outbox items and pending items carry the number too, and are passed over).
            # Only the keys: the reader then gets the invoice itself, strongly consistent, so a
            # void and re-issue (same number) always shows its current version.
            Index(
                "gsi_number",
                "invoice_number",
                "sk",
                "one invoice by its number, without its seller (the buyer's public look-up)",
                projection="KEYS_ONLY",
            ),
        ),
        # Short-lived helper items (an F0701 waiting for its replacement F0401) expire by TTL;
        # invoices, allowances and totals never carry the attribute.
        ttl_attribute="ttl",
        stream=True,
        serves="invoices, allowances, history, period totals, outbox",
    ),
    Table(
        logical_id="IdempotencyTable",
        env_var="IDEMPOTENCY_TABLE",
        suffix="idempotency",
        partition_key="id",
        sort_key=None,
        ttl_attribute="expiration",
        serves="Idempotency-Key records (Powertools schema), kept at least 24 hours",
    ),
)


@dataclass(frozen=True)
class Bucket:
    logical_id: str
    env_var: str
    suffix: str

    def name(self, stage: str) -> str:
        return f"{PROJECT}-{stage}-{self.suffix}"


ARTIFACTS = Bucket(logical_id="ArtifactsBucket", env_var="ARTIFACTS_BUCKET", suffix="artifacts")


@dataclass(frozen=True)
class StreamConsumer:
    """A function fed by a table's stream (Chalice's ``on_dynamodb_record``).

    Chalice needs the stream's ARN when the decorator runs, but a deployed stream has one only once
    CloudFormation made its table: the packaged template points the event source at the table's
    ``StreamArn`` instead, and adds the filter and retry settings Chalice has no arguments for.
    """

    table_logical_id: str
    # The CloudFormation ids chalice package gives the function and its event (CamelCase of its name).
    function_logical_id: str
    event_logical_id: str
    # Lambda's filter on the event source mapping (JSON pattern): records that match nothing are
    # not even delivered.
    filter_pattern: dict[str, Any]
    max_retry_attempts: int
    serves: str = ""


def _outbox_stream() -> StreamConsumer:
    # The filter is the adapter's own, which the handler checks again.
    return StreamConsumer(
        table_logical_id="InvoicesTable",
        function_logical_id="HandleOutboxStream",  # chalicelib/api/outbox_events.py, handle_outbox_stream
        event_logical_id="HandleOutboxStreamDynamodbEventSource",
        filter_pattern=STREAM_FILTER,
        # The handler never raises for an item (the sweeper retries those); what is left is a crash
        # of the whole invocation, retried twice, then passed over, never blocking the shard.
        max_retry_attempts=2,
        serves="wakes the outbox processor when an outbox item is written (documents, mail, SMS, events)",
    )


OUTBOX_STREAM = _outbox_stream()


def mail_feedback_topic(stage: str) -> str:
    """The SNS topic SES publishes bounce notifications to (chalicelib/api/mail_feedback.py subscribes)."""
    return f"{PROJECT}-{stage}-mail-feedback"


def stage_environment(stage: str) -> dict[str, str]:
    """Environment variables naming every resource of a stage (what the functions read)."""
    env = {table.env_var: table.name(stage) for table in TABLES}
    env[ARTIFACTS.env_var] = ARTIFACTS.name(stage)
    return env


def _attribute_names(table: Table) -> list[str]:
    names = [table.partition_key]
    if table.sort_key:
        names.append(table.sort_key)
    for index in table.indexes:
        names += [index.partition_key, index.sort_key]
    return list(dict.fromkeys(names))  # an index may reuse the table's own sort key


def _key_schema(partition_key: str, sort_key: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": partition_key, "KeyType": "HASH"}]
    if sort_key:
        schema.append({"AttributeName": sort_key, "KeyType": "RANGE"})
    return schema


def create_table_request(table: Table, stage: str) -> dict[str, Any]:
    """Keyword arguments for boto3 `create_table` (also the core of the CloudFormation properties)."""
    request: dict[str, Any] = {
        "TableName": table.name(stage),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n in _attribute_names(table)],
        "KeySchema": _key_schema(table.partition_key, table.sort_key),
    }
    if table.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": _key_schema(index.partition_key, index.sort_key),
                "Projection": {"ProjectionType": index.projection},
            }
            for index in table.indexes
        ]
    if table.stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    return request


def _stream_consumer_resources(consumer: StreamConsumer) -> dict[str, Any]:
    """Merged into the function chalice generates: its event source reads the table's real stream."""
    return {
        consumer.function_logical_id: {
            "Properties": {
                "Events": {
                    consumer.event_logical_id: {
                        "Properties": {
                            "Stream": {"Fn::GetAtt": [consumer.table_logical_id, "StreamArn"]},
                            "FilterCriteria": {"Filters": [{"Pattern": json.dumps(consumer.filter_pattern)}]},
                            "MaximumRetryAttempts": consumer.max_retry_attempts,
                            "BisectBatchOnFunctionError": True,
                        }
                    }
                }
            }
        }
    }


def cloudformation_resources(stage: str) -> dict[str, Any]:
    """Tables, bucket, topic and the stream consumer as CloudFormation resources for
    `chalice package --merge-template`."""
    resources: dict[str, Any] = {}
    for table in TABLES:
        props = create_table_request(table, stage)
        if "StreamSpecification" in props:
            # CloudFormation has no StreamEnabled: a view type alone turns the stream on.
            props["StreamSpecification"] = {"StreamViewType": props["StreamSpecification"]["StreamViewType"]}
        props["SSESpecification"] = {"SSEEnabled": True}
        props["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
        if table.ttl_attribute:
            props["TimeToLiveSpecification"] = {"AttributeName": table.ttl_attribute, "Enabled": True}
        resources[table.logical_id] = {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": props,
        }
    resources[ARTIFACTS.logical_id] = {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketName": ARTIFACTS.name(stage),
            "VersioningConfiguration": {"Status": "Enabled"},
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        },
    }
    # Bounces of invoice mail: the sending identity's bounce notifications (with original headers,
    # which name the invoice) go here; the handle_mail_feedback function subscribes by this name.
    resources["MailFeedbackTopic"] = {
        "Type": "AWS::SNS::Topic",
        "Properties": {"TopicName": mail_feedback_topic(stage)},
    }
    resources.update(_stream_consumer_resources(OUTBOX_STREAM))
    return resources
