"""MIG XML: build and parse back an F0401 with 1, 100 and 9,999 items (the MIG 4.1 maximum).

Baseline: lxml serialising and re-parsing the same document without the models' validation,
so the ratio is what validation and the model layer cost on top of the XML library itself.
"""

from __future__ import annotations

import statistics
from decimal import Decimal

from lxml import etree

from bench.harness import Figure, timed
from chalicelib.documents.mig import Invoice, MessageType, build_xml, parse_xml

SIZES = (1, 100, 9_999)
RUNS = 5


def _invoice(items: int) -> Invoice:
    return Invoice.from_data(
        {
            "main": {
                "invoice_number": "AB12345678",
                "invoice_date": "20251105",
                "invoice_time": "10:20:30",
                "seller": {"identifier": "24634102", "name": "示範商行", "address": "臺北市中正區"},
                "buyer": {"identifier": "0000000000", "name": "消費者"},
                "invoice_type": "07",
                "donate_mark": "0",
                "print_mark": "Y",
                "random_number": "1234",
            },
            "details": [
                {
                    "description": f"商品 {n}",
                    "quantity": "1",
                    "unit_price": "10",
                    "tax_type": "1",
                    "amount": "10",
                    "sequence_number": str(n + 1),
                }
                for n in range(items)
            ],
            "amount": {
                "sales_amount": 10 * items,
                "free_tax_sales_amount": 0,
                "zero_tax_sales_amount": 0,
                "tax_type": "1",
                "tax_rate": Decimal("0.05"),
                "tax_amount": 0,
                "total_amount": 10 * items,
            },
        }
    )


def run() -> list[Figure]:
    figures = []
    for size in SIZES:
        invoice = _invoice(size)
        document = build_xml(invoice)
        ours = [timed(lambda inv=invoice: parse_xml(MessageType.F0401, build_xml(inv))) * 1000 for _ in range(RUNS)]
        tree = etree.fromstring(document)
        bare = [
            timed(lambda t=tree: etree.fromstring(etree.tostring(t, xml_declaration=True, encoding="UTF-8"))) * 1000
            for _ in range(RUNS)
        ]
        figures.append(
            Figure(
                "mig xml",
                f"F0401 build + parse, {size:,} items",
                "ms",
                statistics.median(ours),
                (min(ours), max(ours)),
                RUNS,
                "lxml serialise + parse of the same document",
                statistics.median(bare),
                False,
                notes="Validation of every field (lengths, patterns, decimals) and element order happens before "
                "any XML is produced and again on parsing."
                if size == SIZES[-1]
                else "",
            )
        )
    return figures
