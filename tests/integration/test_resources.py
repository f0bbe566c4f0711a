"""The tables and bucket `make run` and the tests create have the shape the template deploys."""

from __future__ import annotations

import boto3

from infra.resources import ARTIFACTS, TABLES


def _client(service, local_aws):
    env = local_aws.environment()
    endpoint = env["AWS_ENDPOINT_URL_DYNAMODB"] if service == "dynamodb" else env["AWS_ENDPOINT_URL_S3"]
    return boto3.client(service, endpoint_url=endpoint, region_name="ap-northeast-1")


def test_every_table_exists_with_its_keys_and_indexes(local_aws):
    dynamodb = _client("dynamodb", local_aws)
    for table in TABLES:
        description = dynamodb.describe_table(TableName=table.name("local"))["Table"]
        keys = {k["AttributeName"]: k["KeyType"] for k in description["KeySchema"]}
        assert keys[table.partition_key] == "HASH"
        if table.sort_key:
            assert keys[table.sort_key] == "RANGE"
        indexes = {i["IndexName"] for i in description.get("GlobalSecondaryIndexes", [])}
        assert indexes == {i.name for i in table.indexes}


def test_idempotency_records_expire_by_ttl(local_aws):
    dynamodb = _client("dynamodb", local_aws)
    ttl = dynamodb.describe_time_to_live(TableName="einvoice-local-idempotency")["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expiration"
    assert ttl["TimeToLiveStatus"] in {"ENABLED", "ENABLING"}


def test_invoice_table_streams_changes_for_the_outbox(local_aws):
    dynamodb = _client("dynamodb", local_aws)
    stream = dynamodb.describe_table(TableName="einvoice-local-invoices")["Table"]["StreamSpecification"]
    assert stream["StreamEnabled"] is True


def test_artifacts_bucket_is_versioned_encrypted_and_private(local_aws):
    s3 = _client("s3", local_aws)
    name = ARTIFACTS.name("local")
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert all(block.values())


def test_creating_resources_again_keeps_existing_data(local_aws):
    from infra.local import create_bucket, create_tables

    dynamodb = _client("dynamodb", local_aws)
    dynamodb.put_item(TableName="einvoice-local-merchants", Item={"pk": {"S": "KEEP"}, "sk": {"S": "ME"}})
    create_tables(local_aws.dynamodb.endpoint, "local")
    create_bucket(local_aws.moto.endpoint, "local")
    item = dynamodb.get_item(TableName="einvoice-local-merchants", Key={"pk": {"S": "KEEP"}, "sk": {"S": "ME"}})
    assert "Item" in item
