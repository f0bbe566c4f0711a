"""`make run`'s stand-in for the outbox Lambda functions: a background thread that reads the
invoices table's stream on DynamoDB Local, as Lambda's event source mapping reads it on AWS, and
hands each batch of records to the same handler code; it runs the sweeper every 30 seconds.

DynamoDB Local's stream has shards like DynamoDB's: a shard closes after a while and a child opens.
The worker reads every open shard from where it left off, and a shard it first sees from its start
(TRIM_HORIZON, as the deployed mapping does), except those open when it starts, which it reads from
the newest record: what was written before a restart is the sweeper's (it runs once at start).
Usage, after the environment points at the local parts::

    worker = StreamWorker().start()
    ...
    worker.stop()
"""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.api.outbox_events import STREAM_BATCH_SIZE, handle_stream_records, run_sweep
from chalicelib.observability import logger
from chalicelib.settings import get_settings

SWEEP_EVERY_S = 30.0
# Lambda polls a stream shard about four times a second; between empty reads the worker waits this.
IDLE_WAIT_S = 0.25
_CLIENT = Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 2})


class StreamReader:
    """The records of one table's stream, shard by shard, each read once (one reader per stream)."""

    def __init__(self, table: str, *, endpoint: str | None, region: str, from_now: bool = True) -> None:
        session = boto3.session.Session()
        self._streams = session.client("dynamodbstreams", region_name=region, endpoint_url=endpoint, config=_CLIENT)
        tables = session.client("dynamodb", region_name=region, endpoint_url=endpoint, config=_CLIENT)
        self._arn = str(tables.describe_table(TableName=table)["Table"]["LatestStreamArn"])
        self._iterators: dict[str, str] = {}
        self._finished: set[str] = set()
        self._discover(initial="LATEST" if from_now else "TRIM_HORIZON")

    def _discover(self, *, initial: str = "TRIM_HORIZON") -> None:
        shards = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id in self._iterators or shard_id in self._finished:
                continue
            closed = "EndingSequenceNumber" in shard.get("SequenceNumberRange", {})
            if initial == "LATEST" and closed:
                self._finished.add(shard_id)  # closed before we started: all of it is older
                continue
            self._iterators[shard_id] = self._streams.get_shard_iterator(
                StreamArn=self._arn, ShardId=shard_id, ShardIteratorType=initial
            )["ShardIterator"]

    def read(self) -> list[dict[str, Any]]:
        """The records written since the last read, in each shard's order (at most a batch per shard)."""
        self._discover()
        records: list[dict[str, Any]] = []
        for shard_id, iterator in list(self._iterators.items()):
            response = self._streams.get_records(ShardIterator=iterator, Limit=STREAM_BATCH_SIZE)
            records.extend(response.get("Records", []))
            following = response.get("NextShardIterator")
            if following:
                self._iterators[shard_id] = following
            else:  # the shard closed and we have read all of it; its child is found next time
                del self._iterators[shard_id]
                self._finished.add(shard_id)
        return records


class StreamWorker:
    def __init__(self, *, sweep_every_s: float = SWEEP_EVERY_S, sweep_at_start: bool = True) -> None:
        self._sweep_every_s = sweep_every_s
        self._sweep_at_start = sweep_at_start
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reader: StreamReader | None = None

    def start(self) -> StreamWorker:
        settings = get_settings()
        # Opened before the thread starts, so that whatever is written after start() is read.
        self._reader = StreamReader(
            settings.invoices_table, endpoint=settings.dynamodb_endpoint, region=settings.region
        )
        self._thread = threading.Thread(target=self._run, name="outbox-stream", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
        self._thread = None

    def _run(self) -> None:
        reader = self._reader
        if reader is None:
            return
        # Once at start (items written while nobody listened), unless told otherwise.
        next_sweep = time.monotonic() + (0.0 if self._sweep_at_start else self._sweep_every_s)
        while not self._stop.is_set():
            try:
                records = reader.read()
                if records:
                    handle_stream_records(records)
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + self._sweep_every_s
                    run_sweep()
                if not records:
                    self._stop.wait(IDLE_WAIT_S)
            except Exception:  # keep the worker alive whatever one round did; the log says what
                logger.exception("local outbox stream round failed")
                self._stop.wait(1.0)
