"""fct_parking_sessions: the newest version of every session, priced by the tariff, incremental."""

from decimal import Decimal

import pytest

from tests.dbt import expected

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def facts(warehouse):
    return {row["session_id"]: row for row in warehouse.dicts("select * from fct_parking_sessions")}


def test_one_row_per_session_with_its_newest_version(warehouse, facts):
    lake = expected.newest_version(warehouse.lake("sessions"), "session_id")
    assert facts.keys() == lake.keys()
    for session_id, row in lake.items():
        fact = facts[session_id]
        assert (fact["version"], fact["status"], fact["amount_paid"]) == (
            row["version"],
            row["status"],
            row["amount_paid"],
        )


def test_session_counts_per_facility_and_local_day_match_the_lake(warehouse):
    lake = expected.newest_version(warehouse.lake("sessions"), "session_id").values()
    counts = {}
    for s in lake:
        key = (s["facility_id"], expected.local_date(s["facility_id"], s["entry_ts"]))
        counts[key] = counts.get(key, 0) + 1
    rows = warehouse.query(
        "select facility_id, entry_date_local, count(*) from fct_parking_sessions group by all"
    )
    assert {(f, d): n for f, d, n in rows} == counts


def test_amount_due_is_the_tariff_of_closed_stays(facts):
    closed = [f for f in facts.values() if f["status"] == "CLOSED"]
    assert len(closed) > 1000
    for fact in closed:
        due = expected.amount_due(fact["facility_id"], fact["duration_s"])
        assert fact["amount_due"] == due
        assert fact["leakage"] == max(Decimal("0.00"), due - fact["amount_paid"])
        assert fact["is_paid"] == (fact["amount_paid"] >= due if due > 0 else None)
    for fact in facts.values():
        if fact["status"] != "CLOSED":
            assert fact["amount_due"] is None and fact["leakage"] is None


def test_exits_follow_entries(facts):
    assert all(f["exit_ts"] >= f["entry_ts"] for f in facts.values() if f["exit_ts"])


def test_the_incremental_run_rewrites_only_sessions_that_changed(warehouse, facts):
    before = {
        row["session_id"]: row
        for row in warehouse.dicts("select * from fct_parking_sessions", first=True)
    }
    first_stamp = {r["dbt_loaded_at"] for r in before.values()}
    assert len(first_stamp) == 1
    rewritten = {sid for sid, fact in facts.items() if fact["dbt_loaded_at"] not in first_stamp}
    changed = {
        sid
        for sid, fact in facts.items()
        if sid not in before or before[sid]["version"] != fact["version"]
    }
    assert changed, "the appended hour closes or opens sessions"
    assert rewritten == changed
    assert len(rewritten) < 0.1 * len(facts)
    # sessions that were open at the old end and closed in the new hour were updated in place
    closed_later = [sid for sid in changed if sid in before and facts[sid]["status"] == "CLOSED"]
    assert closed_later
    assert any(before[sid]["status"] == "OPEN" for sid in closed_later)


def test_staging_events_grew_by_the_new_events_only(warehouse):
    lake_ids = {e["event_id"] for e in warehouse.lake("events")}
    [(rows, distinct)] = warehouse.query(
        "select count(*), count(distinct event_id) from stg_events"
    )
    assert rows == distinct == len(lake_ids)
    [(first_rows,)] = warehouse.query("select count(*) from stg_events", first=True)
    assert 0 < rows - first_rows < 0.05 * rows
