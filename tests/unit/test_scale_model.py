"""The scale model's arithmetic (bench/scale_model.py) against cases worked by hand, and its list of
intents against domain/writes.py and the actions the ledger really builds: a new write cannot be
left out of the model, nor an intent's key drift from the code's."""

from __future__ import annotations

import math
import re
import typing
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bench import scale_model as m
from chalicelib.adapters import dynamo_ledger, dynamo_totals
from chalicelib.domain import writes
from chalicelib.domain.allowance_record import AllowanceRecord
from chalicelib.domain.counter import Counter
from chalicelib.domain.invoice_record import HistoryEntry
from chalicelib.domain.lottery import Duty, Prize, WinnerRecord
from chalicelib.settings import get_settings
from tests.fakes.records import b2b_invoice

SELLER, BUYER, PERIOD, NUMBER, CHANNEL = "24549210", "22099131", "11412", "AB12345678", "pos:till-7"
ENTRY = HistoryEntry(at="2026-12-01T10:00:00+08:00", event="test", actor="test")


# --- units, worked by hand ----------------------------------------------------------------------------


def test_a_transaction_of_four_items_of_800_bytes_costs_8_write_units():
    # Each item: one started KB, twice in a transaction: 4 × 2 = 8.
    op = m.Operation("t", "t", tuple(m.Write("invoices", "P", f"S{i}", "put", 800, tx=True) for i in range(4)), "api")
    assert op.wcu() == 8


def test_write_units_count_each_started_kilobyte_of_the_larger_image():
    assert [m.write_units(size) for size in (1, 1024, 1025, 3000)] == [1, 1, 2, 3]
    assert m.Write("invoices", "P", "S", "update", 1537).units == 2  # a B2B invoice once delivered
    assert m.Write("invoices", "P", "S", "update", 1537, tx=True).units == 4


def test_an_index_entry_costs_its_projection_and_doubles_inside_a_transaction():
    entry = m.Ix("gsi1", "MERCHANT#{seller}", "put", 1124)
    alone = m.Write("invoices", "MERCHANT#{seller}", "INV#{number}", "put", 1124, indexes=(entry,))
    in_tx = m.Write("invoices", "MERCHANT#{seller}", "INV#{number}", "put", 1124, tx=True, indexes=(entry,))
    assert alone.all_units == 2 + 2
    assert in_tx.all_units == 4 + 4
    keys_only = m.Ix("gsi_number", "{number}", "put", 59)
    assert m.Write("invoices", "P", "S", "put", 1124, indexes=(keys_only,)).all_units == 2 + 1


def test_reads_count_each_started_4_kb_half_when_eventually_consistent():
    assert m.read_units(0) == 1.0  # a missing item still costs the minimum
    assert m.read_units(4096) == 1.0
    assert m.read_units(4097) == 2.0
    assert m.read_units(4097, consistent=False) == 1.0
    assert m.read_units(100, transactional=True) == 2.0


def test_a_condition_check_is_metered_like_a_transactional_read():
    assert m.check_units(0) == 0.0
    assert m.check_units(192) == 2.0
    assert m.check_units(5000) == 4.0


def test_conflicts_follow_the_poisson_model():
    # 25 writes/s on an item each holding it 10 ms: held 1 − e^(−0.25) of the time.
    assert m.conflict_probability(25, 0.010) == pytest.approx(0.221199, abs=1e-6)
    assert m.tolerated_rate(0.10, 0.010) == pytest.approx(10.536, abs=1e-3)  # −ln(0.9) / 0.01
    assert m.attempts(0.5) == 2.0


def test_shards_are_the_fewest_powers_of_two_at_half_the_limit():
    assert m.shards_for(400, 1000) == 1
    assert m.shards_for(501, 1000) == 2
    assert m.shards_for(6369, 1000) == 16  # 6369 / 500 = 12.7


def test_a_merchant_at_200_per_second_over_8_shards_writes_25_a_second_on_each():
    loads = m.Loads()
    totals = m.Write("invoices", "MERCHANT#{seller}", "TOTALS#{period}#07#{shard}", "update", 192, tx=True)
    loads.add_write("issue", totals, 200.0, m.Subject("<m>", "", 6000))
    part = loads.partitions[("invoices", "MERCHANT#<m>")]
    assert part.wcu == 400  # 200 × 2 (transactional)
    (item,) = loads.items.values()
    assert item.writes == 25.0 and item.tx_writes == 25.0


def test_a_channel_key_spreads_over_the_merchants_channels():
    loads = m.Loads()
    counter = m.Write("tracks", "MERCHANT#{seller}", "COUNTER#{period}#07#{channel}", "update", 270, tx=True)
    loads.add_write("issue", counter, 200.0, m.Subject("<m>", "", 6000))
    (item,) = loads.items.values()
    assert item.writes == pytest.approx(200 / 6000)
    assert not loads.partitions[("tracks", "MERCHANT#<m>")].single_item


def test_the_merchants_add_up_to_the_platform():
    load = m.Workload()
    s = m.zipf_exponent(load)
    total = sum(load.largest_rate * k**-s for k in range(1, load.merchants + 1))
    assert total == pytest.approx(load.platform_rate, rel=0.005)
    assert m.merchants(load)[0].rate == load.largest_rate


def test_the_bill_multiplies_units_by_prices():
    usage = m.Usage(wru=10.0, rru=4.0)
    bill = m.monthly_bill(usage, 1e6, stored_months=0)
    assert bill["DynamoDB writes"] == pytest.approx(10 * m.PRICES["wru"].usd)
    assert bill["DynamoDB reads"] == pytest.approx(4 * m.PRICES["rru"].usd)
    # API Gateway's tiers: 333 million at the first price, the rest of a billion at the second.
    expected = 333 * m.PRICES["apigw"].usd + 667 * m.PRICES["apigw_2"].usd
    assert m.apigw_cost(1e9) == pytest.approx(expected)


def test_stored_bytes_keep_each_item_at_its_largest_and_drop_index_entries_removed():
    entry = m.Ix("gsi1", "OUTBOX#PENDING", "put", 300)
    gone = m.Ix("gsi1", "OUTBOX#PENDING", "delete", 500)
    op = m.Operation(
        "t",
        "t",
        (
            m.Write("invoices", "P", "OUTBOX#1", "put", 300, indexes=(entry,)),
            m.Write("invoices", "P", "OUTBOX#1", "update", 500, indexes=(gone,)),
        ),
        "outbox",
    )
    assert m.stored_bytes([op]) == 500 + m.ITEM_OVERHEAD


# --- the model covers every intent, with the ledger's keys ------------------------------------------------


def _intent_types() -> set[str]:
    return {cls.__name__ for cls in typing.get_args(writes.Intent)}


def test_every_intent_of_the_write_seam_is_in_the_model():
    assert set(m.INTENTS) | set(m.NOT_YET_MODELLED) == _intent_types()
    assert not set(m.INTENTS) & set(m.NOT_YET_MODELLED)


def test_every_intent_is_written_by_some_operation_of_the_model():
    used = {w.intent for op in m.operations().values() for w in op.writes if w.intent}
    assert used == _intent_types() - set(m.NOT_YET_MODELLED)


def test_the_model_uses_the_codes_number_of_totals_shards():
    assert m.TOTALS_SHARDS == dynamo_totals.SHARDS
    filing = m.operations()["filing"]
    assert sum(1 for w in filing.transaction if w.op == "check") == 3 * dynamo_totals.SHARDS


def _allowance(number: str = "AL1") -> AllowanceRecord:
    invoice = b2b_invoice(SELLER, BUYER, number=NUMBER)
    return AllowanceRecord(
        allowance_number=number,
        allowance_date=invoice.invoice_date,
        period=invoice.period,
        invoice_type="07",
        issued_at=datetime(2026, 12, 1, tzinfo=UTC),
        seller=invoice.seller,
        buyer=invoice.buyer,
        items=[],
        tax_amount=0,
        total_amount=100,
        originals=[{"invoice_number": NUMBER, "invoice_date": invoice.invoice_date, "amount": 105}],
        prices_include_tax=False,
    )


def _samples() -> list[writes.Intent]:
    counter = Counter(PERIOD, "07", CHANNEL, "AB", 12345650, 12345699, 12345678, (), 22, "", 3, False)
    invoice = b2b_invoice(SELLER, BUYER, number=NUMBER, day=date(2026, 12, 1))
    winner = WinnerRecord(
        ubn=SELLER,
        period=PERIOD,
        invoice_number=NUMBER,
        prize=Prize.SIXTH,
        prize_amount=Decimal(200),
        source="numbers",
        duty=Duty.DELIVER_PROOF,
        status="TO_DELIVER",
        loaded_at="2026-12-01T10:00:00+08:00",
        loaded_by="test",
    )
    return [
        writes.TakeNumber(SELLER, counter, "2026-12-01T10:00:00+08:00"),
        writes.PutInvoice(SELLER, invoice),
        writes.AddToTotals(SELLER, PERIOD, "07", {"invoice_count": 1}),
        writes.AddToPurchases(BUYER, PERIOD, {"received_count": 1}),
        writes.PutOutboxItem(SELLER, NUMBER, "issued", {"xml": "pending"}, "2026-12-01T10:00:00+08:00"),
        writes.RecordIdempotencyKey(f"{SELLER}#k1", NUMBER, "f", 2_000_000_000, 1_900_000_000),
        writes.RecordOrderId(SELLER, "o1", NUMBER, "f"),
        writes.CancelInvoice(SELLER, NUMBER, {"reason": "x"}, ENTRY),
        writes.ReplaceInvoice(SELLER, invoice, "1234", reset_allowable=False),
        writes.AppendHistory(SELLER, NUMBER, ENTRY),
        writes.PutAllowance(SELLER, _allowance()),
        writes.ReduceAllowable(SELLER, NUMBER, 105, 1050, ENTRY),
        writes.RestoreAllowable(SELLER, NUMBER, 105, ENTRY),
        writes.AdjustAllowable(SELLER, NUMBER, 105, 50, (ENTRY,)),
        writes.ReplaceAllowance(SELLER, _allowance(), 0),
        writes.CancelAllowance(SELLER, "AL1", {"cancel_reason": "x"}, ENTRY),
        writes.RequireUnfiled(SELLER, PERIOD),
        writes.PutWinner(winner),
        writes.MarkPrizeDelivered(SELLER, PERIOD, NUMBER, ENTRY),
    ]


#: What each placeholder of the model's templates is in the samples above.
EXPECTED = {
    "seller": SELLER,
    "buyer": BUYER,
    "period": PERIOD,
    "number": NUMBER,
    "channel": CHANNEL,
    "type": "07",
    "subject": NUMBER,
    "outbox_event": "issued",
    "idem": "k1",
    "order": "o1",
    "allowance": "AL1",
}


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    text = "".join(
        re.escape(part) if i % 2 == 0 else (r"(?P<shard>\d+)" if part == "shard" else f"(?P<{part}>.+?)")
        for i, part in enumerate(parts)
    )
    return re.compile(text)


def _table(logical: str) -> str:
    settings = get_settings()
    return {
        "invoices": settings.invoices_table,
        "tracks": settings.tracks_table,
        "merchants": settings.merchants_table,
        "idempotency": settings.idempotency_table,
    }[logical]


def test_the_samples_cover_every_intent():
    assert {type(intent).__name__ for intent in _samples()} == _intent_types() - set(m.NOT_YET_MODELLED)


@pytest.mark.parametrize("intent", _samples(), ids=lambda intent: type(intent).__name__)
def test_each_intents_key_in_the_model_is_the_one_the_ledger_writes(intent):
    modelled = m.INTENTS[type(intent).__name__]
    ((kind, body),) = dynamo_ledger.action(intent).items()
    assert {"Put": "put", "Update": "update", "ConditionCheck": "check"}[kind] == modelled.op
    assert body["TableName"] == _table(modelled.table)
    keys = body["Key"] if "Key" in body else body["Item"]
    pk = next(iter((keys.get("pk") or keys["id"]).values()))
    sk = next(iter(keys["sk"].values())) if "sk" in keys else None
    for template, value in ((modelled.pk, pk), (modelled.sk, sk)):
        if template is None:
            assert value is None
            continue
        match = _pattern(template).fullmatch(value)
        assert match, f"{value!r} is not {template!r}"
        for name, found in match.groupdict().items():
            if name == "shard":
                assert int(found) < m.TOTALS_SHARDS
            else:
                assert found == EXPECTED[name], f"{name} in {value!r}"


def test_a_cancelled_transaction_still_costs_its_units_in_the_retry_model():
    # 1/(1 − p) attempts, each charged: at the 8-shard rate (p ≈ 22%) the totals update costs 29% more.
    p = m.conflict_probability(200 / 8, 0.010)
    assert math.isclose(m.attempts(p), 1 / (1 - p))
    assert m.attempts(p) == pytest.approx(1.284, abs=1e-3)
