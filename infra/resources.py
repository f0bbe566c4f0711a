"""The platform's tables, bucket and queue, defined once.

The same definitions create the resources on DynamoDB Local and moto for `make run` and the
tests, and become CloudFormation resources merged into `chalice package`'s template, so the
local shape cannot drift from what is deployed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

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
class Queue:
    """An SQS queue with a dead-letter queue.

    The visibility timeout is AWS's advice for Lambda event sources: six times the consuming
    function's timeout, so a message is never handed to a second invocation while the first one
    (with its own retries) may still be working on it.
    """

    logical_id: str
    env_var: str
    suffix: str
    # The CloudFormation id chalice package gives the consuming function (CamelCase of its name).
    consumer_logical_id: str
    function_timeout_s: int
    max_receive_count: int
    serves: str = ""

    def name(self, stage: str) -> str:
        return f"{PROJECT}-{stage}-{self.suffix}"

    def dead_letter_name(self, stage: str) -> str:
        return f"{self.name(stage)}-dlq"

    @property
    def visibility_timeout_s(self) -> int:
        return 6 * self.function_timeout_s


# SQS's maximum (14 days): a message outlives any outage we would wait out.
RETENTION_S = 14 * 24 * 3600

OUTBOX_QUEUE = Queue(
    logical_id="OutboxQueue",
    env_var="OUTBOX_QUEUE",
    suffix="outbox",  # chalicelib.adapters.sqs_outbox.queue_name must agree (tested)
    consumer_logical_id="HandleOutboxMessage",  # chalicelib/api/outbox_events.py, handle_outbox_message
    # Must equal lambda_functions.handle_outbox_message.lambda_timeout in .chalice/config.json
    # (a test checks it): rendering two PDFs with an embedded CJK font takes seconds, not ms.
    function_timeout_s=60,
    # After 5 failed deliveries a message parks in the DLQ (an alarm, not a loss): the outbox item
    # stays in the pending index and the sweeper keeps retrying it.
    max_receive_count=5,
    serves="wake-ups for the outbox processor (documents, email, SMS after an invoice changed)",
)
QUEUES: tuple[Queue, ...] = (OUTBOX_QUEUE,)


def mail_feedback_topic(stage: str) -> str:
    """The SNS topic SES publishes bounce notifications to (chalicelib/api/mail_feedback.py subscribes)."""
    return f"{PROJECT}-{stage}-mail-feedback"


def stage_environment(stage: str) -> dict[str, str]:
    """Environment variables naming every resource of a stage (what the functions read)."""
    env = {table.env_var: table.name(stage) for table in TABLES}
    env[ARTIFACTS.env_var] = ARTIFACTS.name(stage)
    for queue in QUEUES:
        env[queue.env_var] = queue.name(stage)
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


def queue_attributes(queue: Queue, dead_letter_arn: str) -> dict[str, str]:
    """SQS attributes of ``queue`` for boto3 `create_queue` (the same values as the template's)."""
    return {
        "VisibilityTimeout": str(queue.visibility_timeout_s),
        "MessageRetentionPeriod": str(RETENTION_S),
        "RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": str(queue.max_receive_count)}
        ),
    }


def _queue_resources(queue: Queue, stage: str) -> dict[str, Any]:
    dlq_id = f"{queue.logical_id}DeadLetter"
    return {
        dlq_id: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": queue.dead_letter_name(stage),
                "MessageRetentionPeriod": RETENTION_S,
                "SqsManagedSseEnabled": True,
            },
        },
        queue.logical_id: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": queue.name(stage),
                "VisibilityTimeout": queue.visibility_timeout_s,
                "MessageRetentionPeriod": RETENTION_S,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
                    "maxReceiveCount": queue.max_receive_count,
                },
            },
        },
    }


def cloudformation_resources(stage: str) -> dict[str, Any]:
    """Tables, bucket and queues as CloudFormation resources for `chalice package --merge-template`."""
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
    for queue in QUEUES:
        resources.update(_queue_resources(queue, stage))
        # Chalice names the queue by ARN only, so CloudFormation sees no dependency and may create the
        # event source mapping before the queue on a first deploy (which fails). Merged into the
        # function chalice generates; its mapping references the function, so it comes after both.
        resources[queue.consumer_logical_id] = {"DependsOn": [queue.logical_id]}
    return resources
