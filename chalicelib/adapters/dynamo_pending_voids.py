"""Pending MIG voids (``pk=MERCHANT#<ubn>, sk=MIGVOID#<number>``; an allowance's G0701 under
``MIGVOIDALW#<number>``, apart, since an allowance number may look like an invoice number) in the
invoices table, TTL'd."""

from __future__ import annotations

from dataclasses import asdict

from chalicelib.adapters.dynamo import dynamodb, get, key, to_item
from chalicelib.adapters.dynamo_invoices import invoices_table, owner
from chalicelib.domain.pending_void import PendingVoid

INVOICE_VOIDS, ALLOWANCE_VOIDS = "MIGVOID#", "MIGVOIDALW#"


class DynamoPendingVoids:
    def __init__(self, prefix: str = INVOICE_VOIDS) -> None:
        self._prefix = prefix

    def _sort_key(self, number: str) -> str:
        return f"{self._prefix}{number}"

    def put(self, ubn: str, pending: PendingVoid) -> None:
        fields = {k: v for k, v in asdict(pending).items() if v is not None}
        item = {"pk": owner(ubn), "sk": self._sort_key(pending.invoice_number), **fields, "ttl": pending.expires_at}
        dynamodb().put_item(TableName=invoices_table(), Item=to_item(item))

    def get(self, ubn: str, number: str) -> PendingVoid | None:
        item = get(invoices_table(), owner(ubn), self._sort_key(number))
        if item is None:
            return None
        return PendingVoid(
            invoice_number=str(item["invoice_number"]),
            reason=str(item.get("reason") or ""),
            remark=item.get("remark"),
            random_number=str(item.get("random_number") or ""),
            received_at=str(item.get("received_at") or ""),
            expires_at=int(item.get("expires_at", 0)),
        )

    def delete(self, ubn: str, number: str) -> None:
        dynamodb().delete_item(TableName=invoices_table(), Key=key(owner(ubn), self._sort_key(number)))
