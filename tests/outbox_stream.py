"""What the invoices table's stream does in AWS, for tests that drive the outbox by hand.

`stream_record` is the record Lambda hands the outbox function when an outbox item is written;
`deliver` reads the stored item and invokes the function with it through the Chalice test client,
as the event source mapping would. (tests/integration/test_outbox_stream.py reads DynamoDB Local's
real stream and checks these records agree with it.)
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from chalicelib.adapters.dynamo import to_item
from chalicelib.adapters.dynamo_invoices import DynamoInvoices

_SEQUENCE = itertools.count(1)
STREAM_ARN = "arn:aws:dynamodb:ap-northeast-1:000000000000:table/einvoice-local-invoices/stream/local"


def stream_record(
    new: dict[str, Any], *, event_name: str = "INSERT", old: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A stream record (NEW_AND_OLD_IMAGES) of an item written as ``new`` (Python values)."""
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": int(time.time()),
        "Keys": to_item({"pk": new["pk"], "sk": new["sk"]}),
        "NewImage": to_item(new),
        "SequenceNumber": str(next(_SEQUENCE)).zfill(21),
        "SizeBytes": 512,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if old is not None:
        change["OldImage"] = to_item(old)
    return {
        "eventID": f"test-{change['SequenceNumber']}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "ap-northeast-1",
        "dynamodb": change,
        "eventSourceARN": STREAM_ARN,
    }


def deliver(client: Any, ubn: str, number: str, event: str) -> None:
    """Hand the stored outbox item's INSERT record to the outbox function, as the stream does."""
    item = DynamoInvoices().outbox(ubn, number, event)
    assert item is not None, f"no outbox item {number}#{event}"
    client.lambda_.invoke("handle_outbox_stream", {"Records": [stream_record(item)]})
