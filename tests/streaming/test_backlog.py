"""Event-time timers hold while the worker reads a backlog (streaming.backlog)."""

from types import SimpleNamespace

from faust.types import TP

from streaming.backlog import MAX_EVENTS_LAG, MAX_LAG, backlog, catching_up

RAW = TP("raw.camguard", 0)
EVENTS = TP("parking.events", 0)
DEADLETTER = TP("parking.deadletter", 0)
OCCUPANCY = TP("parking.occupancy", 0)
CHANGELOG = TP("parkflow-sessions-changelog", 0)


def app_with(
    ends: dict, read: dict, assigned: set | None = None, rebalancing: bool = False
) -> SimpleNamespace:
    monitor = SimpleNamespace(tp_end_offsets=ends, tp_read_offsets=read)
    consumer = SimpleNamespace(assignment=lambda: assigned if assigned is not None else set(ends))
    return SimpleNamespace(monitor=monitor, consumer=consumer, rebalancing=rebalancing)


def test_a_raw_partition_read_to_its_end_is_not_a_backlog():
    assert not catching_up(app_with({RAW: 1000}, {RAW: 999}))


def test_a_raw_partition_far_behind_is_a_backlog():
    assert catching_up(app_with({RAW: 1000 + MAX_LAG}, {RAW: 998}))
    assert catching_up(app_with({RAW: MAX_LAG + 1}, {}))  # nothing read since it was assigned


def test_an_event_partition_far_behind_is_a_backlog():
    # the raw topics are read, but their skew sits in the events topic the timers' agents read
    assert catching_up(app_with({RAW: 1000, EVENTS: 10_000}, {RAW: 999, EVENTS: 0}))
    assert not catching_up(app_with({RAW: 1000, EVENTS: 10_000}, {RAW: 999, EVENTS: 9_999}))


def test_an_event_partition_counts_records_of_many_events():
    # a parking.events record carries up to 500 events: a few records behind is a backlog
    behind = {RAW: 1000, EVENTS: 100 + MAX_EVENTS_LAG + 1}
    assert catching_up(app_with(behind, {RAW: 999, EVENTS: 99}))
    assert not catching_up(app_with(behind, {RAW: 999, EVENTS: 100}))
    assert MAX_EVENTS_LAG < MAX_LAG


def test_only_input_partitions_of_this_worker_count():
    assert not catching_up(app_with({CHANGELOG: 10_000, DEADLETTER: 10_000}, {}))
    assert not catching_up(app_with({RAW: 10_000}, {RAW: 0}, assigned=set()))
    assert not catching_up(app_with({EVENTS: 10_000}, {EVENTS: 0}, assigned={RAW}))


def test_the_backlog_counts_payloads_and_batches_still_to_read():
    ends = {RAW: 5000, TP("raw.paymaster", 1): 300, EVENTS: 40, OCCUPANCY: 12, CHANGELOG: 900}
    read = {RAW: 999, TP("raw.paymaster", 1): 299, EVENTS: 9, OCCUPANCY: 11}
    report = backlog(app_with(ends, read))
    assert (report.payloads, report.batches, report.catching_up) == (4000, 30, True)
    steady = backlog(app_with({RAW: 10, OCCUPANCY: 12}, {RAW: 9, OCCUPANCY: 11}))
    assert (steady.payloads, steady.batches, steady.catching_up) == (0, 0, False)


def test_an_occupancy_agent_far_behind_is_catching_up_for_the_live_view():
    # the raw and events topics are read, the live counts' own topic is not yet
    report = backlog(app_with({RAW: 10, OCCUPANCY: 500}, {RAW: 9, OCCUPANCY: 100}))
    assert report.catching_up and report.batches == 399
    assert not catching_up(app_with({RAW: 10, OCCUPANCY: 500}, {RAW: 9, OCCUPANCY: 100}))


def test_a_worker_being_assigned_its_partitions_is_catching_up():
    assert backlog(app_with({RAW: 10}, {RAW: 9}, rebalancing=True)).catching_up
    assert not backlog(app_with({RAW: 10}, {RAW: 9})).catching_up
