"""The platform's tables and bucket, defined once.

The same definitions create the resources on DynamoDB Local and moto for `make run` and the
tests, and become CloudFormation resources merged into `chalice package`'s template, so the
local shape cannot drift from what is deployed.
"""

from __future__ import annotations

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
        ),
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
    return names


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
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in table.indexes
        ]
    if table.stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    return request


def cloudformation_resources(stage: str) -> dict[str, Any]:
    """Tables and bucket as CloudFormation resources for `chalice package --merge-template`."""
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
    return resources
