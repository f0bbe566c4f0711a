"""An invoice found without its seller: the buyer's public look-up (services/invoice_lookup.py).

Invoice numbers are unique across all sellers (the tax office's track ranges never overlap), so
the number alone names one invoice. The invoices table's ``gsi_number`` index (infra/resources.py)
is keyed on the ``invoice_number`` attribute every invoice item already has, with the item's
``sk`` as its sort key: the invoice is the entry whose sk is ``INV#<number>`` (order-id records,
outbox and pending items carry the number too). The index holds only keys; the invoice itself is
then read from the table, strongly consistent, so a void and re-issue (註銷重開, same number) is
always seen in its current version.

By order id: an order id is unique only within its seller (``ORDER#<order_id>`` under the
seller's key, written with the invoice), so the seller's UBN is part of that question.
"""

from __future__ import annotations

from chalicelib.adapters.dynamo import dynamodb, get
from chalicelib.adapters.dynamo_invoices import invoice_sort_key, invoices_table, owner
from chalicelib.domain.invoice_record import InvoiceRecord

NUMBER_INDEX = "gsi_number"


class DynamoInvoiceLookup:
    def by_number(self, number: str) -> InvoiceRecord | None:
        """The invoice numbered ``number`` whoever issued it; None when there is none."""
        response = dynamodb().query(
            TableName=invoices_table(),
            IndexName=NUMBER_INDEX,
            KeyConditionExpression="invoice_number = :n AND sk = :sk",
            ExpressionAttributeValues={":n": {"S": number}, ":sk": {"S": invoice_sort_key(number)}},
            Limit=2,
        )
        for entry in response.get("Items", []):
            seller = str(entry["pk"]["S"])
            item = get(invoices_table(), seller, invoice_sort_key(number))
            # Only a seller's own invoice item counts: never a copy kept under anyone else's key.
            if item and seller == owner(str((item.get("seller") or {}).get("ubn", ""))):
                return InvoiceRecord.model_validate(item)
        return None

    def by_order(self, seller_ubn: str, order_id: str) -> InvoiceRecord | None:
        """The invoice ``seller_ubn`` issued for its ``order_id``; None when there is none."""
        order = get(invoices_table(), owner(seller_ubn), f"ORDER#{order_id}")
        if not order or not order.get("invoice_number"):
            return None
        item = get(invoices_table(), owner(seller_ubn), invoice_sort_key(str(order["invoice_number"])))
        return InvoiceRecord.model_validate(item) if item else None
