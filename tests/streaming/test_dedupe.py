"""Recognising re-sent events by id, in bounded memory."""

from datetime import UTC, datetime, timedelta

from streaming.rules.dedupe import RecentIds

T0 = datetime(2026, 11, 16, tzinfo=UTC)


def test_an_id_counts_once():
    ids = RecentIds()
    assert ids.first_time("a", T0)
    assert not ids.first_time("a", T0 + timedelta(minutes=5))
    assert ids.first_time("b", T0)


def test_ids_older_than_the_window_are_forgotten_so_memory_stays_bounded():
    ids = RecentIds(window=timedelta(minutes=10), check_every=100)
    for n in range(10_000):
        ids.first_time(f"id-{n}", T0 + timedelta(seconds=n))
    assert len(ids) <= 700  # ten minutes of ids plus one check interval
    assert not ids.first_time("id-9999", T0)  # recent ids are still known
