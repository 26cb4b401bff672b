"""mart_revenue_daily against revenue recomputed in Python from the lake's payment events."""

from decimal import Decimal

import pytest

from parkflow.simulator.catalog import FACILITIES_BY_ID
from tests.dbt import expected
from tests.dbt.conftest import BAD_PAYMENT_ID

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rows(warehouse):
    return warehouse.dicts("select * from mart_revenue_daily")


def test_revenue_per_facility_day_and_method_matches_the_lake(warehouse, rows):
    events = expected.first_landing(warehouse.lake("events"), "event_id").values()
    computed = expected.revenue(events)
    by_method = {
        (r["facility_id"], r["local_date"], r["payment_method"]): r["revenue"]
        for r in rows
        if not r["is_total"]
    }
    assert by_method == computed
    totals = {}
    for (facility, day, _), amount in computed.items():
        totals[(facility, day)] = totals.get((facility, day), Decimal(0)) + amount
    for row in rows:
        if row["is_total"]:
            assert row["revenue"] == totals.get((row["facility_id"], row["local_date"]), 0)


def test_the_negative_payment_is_kept_flagged_and_left_out(warehouse, rows):
    [(amount,)] = warehouse.query(
        f"select amount from stg_events where event_id = '{BAD_PAYMENT_ID}'"
    )
    assert amount == Decimal("-12.50")
    [(invalid,)] = warehouse.query(
        "select sum(invalid_payments) from mart_data_quality_daily where source = 'paymaster'"
    )
    assert invalid == 1
    assert all(r["gross_revenue"] >= 0 and r["refunds"] >= 0 for r in rows)
    assert all(r["revenue"] >= 0 for r in rows if r["is_total"])


def test_revpas_is_revenue_over_capacity(rows):
    for row in rows:
        capacity = FACILITIES_BY_ID[row["facility_id"]].capacity
        assert row["capacity"] == capacity
        assert row["revpas"] == pytest.approx(float(row["revenue"]) / capacity, abs=1e-4)


def test_avg_ticket_is_takings_per_completed_payment(rows):
    for row in rows:
        if row["transactions"]:
            assert row["avg_ticket"] == (row["gross_revenue"] / row["transactions"]).quantize(
                Decimal("0.01")
            )


def test_compliance_and_leakage_of_closed_sessions_by_exit_day(warehouse, rows):
    sessions = expected.newest_version(warehouse.lake("sessions"), "session_id").values()
    due, paid, leak = {}, {}, {}
    for s in sessions:
        if s["status"] != "CLOSED":
            continue
        day = (s["facility_id"], expected.local_date(s["facility_id"], s["exit_ts"]))
        amount = expected.amount_due(s["facility_id"], s["duration_s"])
        leak[day] = leak.get(day, Decimal(0)) + max(Decimal(0), amount - s["amount_paid"])
        if amount > 0:
            due[day] = due.get(day, 0) + 1
            paid[day] = paid.get(day, 0) + (s["amount_paid"] >= amount)
    checked = 0
    for row in rows:
        key = (row["facility_id"], row["local_date"])
        if row["is_total"] and key in due:
            assert row["payment_compliance"] == pytest.approx(paid[key] / due[key])
            assert row["leakage"] == leak[key]
            checked += 1
        elif not row["is_total"]:
            assert row["payment_compliance"] is None and row["leakage"] is None
    assert checked >= 2
    on_street = [r for r in rows if r["facility_id"] == "FAC-002" and r["is_total"]]
    assert on_street and all(r["payment_compliance"] is None for r in on_street)


def test_every_facility_day_has_a_total_row_even_without_payments(rows):
    counted = [r for r in rows if r["facility_id"] == "FAC-003"]
    assert counted and all(r["is_total"] and r["revenue"] == 0 for r in counted)
