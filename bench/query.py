"""Query cost follows the page, not the table: one filtered page of 50 invoices for a merchant with
1,000 invoices, and for one with 100,000 (the baseline is the 1,000-invoice merchant)."""

from __future__ import annotations

import statistics
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from bench.fixtures import new_ubn
from bench.harness import Figure, timed
from chalicelib.adapters.dynamo import dynamodb, to_item
from chalicelib.adapters.dynamo_invoice_search import DynamoInvoiceSearch
from chalicelib.adapters.dynamo_invoices import invoice_item, invoices_table
from chalicelib.adapters.dynamo_totals import adding
from chalicelib.api import deps
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.services.invoice_building import totals_changes
from chalicelib.services.invoice_query import InvoiceQuery, find_invoices

SMALL, LARGE = 1_000, 100_000
RUNS = 15


def _record(number: int, at: datetime) -> InvoiceRecord:
    return InvoiceRecord.model_validate(
        {
            "invoice_number": f"QB{number:08d}",
            "random_number": "1234",
            "period": Period.from_date(at.date()).code,
            "invoice_date": at.date(),
            "invoice_time": at.strftime("%H:%M:%S"),
            "issued_at": at,
            "invoice_type": "07",
            "channel": "api",
            "seller": {"ubn": "00000000", "name": "效能", "address": "臺北"},
            "buyer": {"ubn": "22099131" if number % 3 == 0 else None, "name": "買方"},
            "items": [
                {
                    "sequence": 1,
                    "description": "拿鐵咖啡",
                    "quantity": "2",
                    "unit_price": "65",
                    "amount": "130",
                    "tax_type": "1",
                }
            ],
            "amounts": {
                "sales_amount": 130,
                "free_tax_sales_amount": 0,
                "zero_tax_sales_amount": 0,
                "tax_type": "1",
                "tax_rate": "0.05",
                "tax_amount": 0,
                "total_amount": 130 + number % 500,
            },
            "tax_exclusive_sales_amount": 124,
            "output_tax_amount": 6,
            "print_mark": False,
            "barcode": "x" * 19,
            "qr_left": "x" * 120,
            "qr_right": "**",
        }
    )


_LOADED: dict[int, str] = {}


def loaded_merchant(count: int) -> str:
    """A merchant with ``count`` invoices in the current period and their running totals; loaded once
    per run and shared by the benchmarks that need one (query, filing)."""
    if count not in _LOADED:
        ubn = new_ubn()
        _load(ubn, count)
        _LOADED[count] = ubn
    return _LOADED[count]


def _load(ubn: str, count: int) -> None:
    """Write ``count`` invoices of one merchant spread over the current period (batches of 25), and
    the period totals they add up to (what issuing them one by one would have left)."""
    start = datetime.combine(Period.from_date(datetime.now(TAIWAN_TZ).date()).first_day, datetime.min.time(), TAIWAN_TZ)
    table = invoices_table()

    def batch(offset: int) -> None:
        requests = []
        for n in range(offset, min(offset + 25, count)):
            record = _record(n, start + timedelta(seconds=n * 50))
            requests.append({"PutRequest": {"Item": to_item(invoice_item(record, ubn))}})
        pending = {table: requests}
        while pending:
            pending = dynamodb().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(batch, range(0, count, 25)))
    totals: dict[str, int] = {}
    for n in range(count):
        for name, value in totals_changes(_record(n, start + timedelta(seconds=n * 50))).items():
            totals[name] = totals.get(name, 0) + value
    period = Period.from_date(start.date()).code
    dynamodb().transact_write_items(TransactItems=[adding(ubn, period, "07", totals)])


def _page_ms(ubn: str) -> list[float]:
    codec = deps.cursor_codec()
    query = InvoiceQuery(min_total=200, limit=50)
    find_invoices(ubn, query, codec, DynamoInvoiceSearch())  # warm the client
    return [timed(lambda: find_invoices(ubn, query, codec, DynamoInvoiceSearch())) * 1000 for _ in range(RUNS)]


def run() -> list[Figure]:
    small, large = loaded_merchant(SMALL), loaded_merchant(LARGE)
    small_ms, large_ms = _page_ms(small), _page_ms(large)
    return [
        Figure(
            "query",
            f"page of 50 (min_total filter), {LARGE:,} invoices",
            "ms",
            statistics.median(large_ms),
            (min(large_ms), max(large_ms)),
            RUNS,
            f"the same page, {SMALL:,} invoices",
            statistics.median(small_ms),
            False,
            target="ratio < 1.3",
            notes="Served by the by-date index (newest first); the filter reads ahead only until the page "
            "is full, so the cost follows the page.",
        ),
    ]
