"""Whether the worker is catching up on its input; event-time timers wait until it is not.

A worker that restarts, or comes back after a broker outage, reads each input partition from
its own committed offset, and round-robin fetching moves partitions forward at different
event-time speeds: a pay terminal's partition has fewer records per hour than a camera's, so
while a backlog is read, payments and exits can arrive long (in event time) before the entries
they belong to. Timers acting on the newest event time would then expire them as unmatched
although their entries are only a few seconds of reading away. Seen here: 506 payments and 260
exits wrongly unmatched after ten restarts during a fast replay (benchmarks/crash_recovery.py).

The skew survives the first stage: once the raw backlog is read, parking.events can still hold
one, in which a vehicle's exit sits hours of event time before its entry (they came from raw
partitions read at different speeds). The timers' own agents read that topic, so it counts
too; raw alone let 4,825 of 27,991 sessions end ABANDONED instead of CLOSED when the events
topic trailed a 500K replay (benchmarks/peers.py).

So timers hold while any raw partition this worker reads is more than `MAX_LAG` records
behind the end the broker last reported, or a parking.events partition more than
`MAX_EVENTS_LAG` (its records carry up to 500 events each: `streaming/normalizing.py`), and act
once it has caught up (the waiting events then see their entries). This worker only knows
its own partitions: with several workers, one that is still catching up feeds the others'
agents late, which their timers do not see.
"""

from __future__ import annotations

from dataclasses import dataclass

import faust

from parkflow.kafka import EVENTS_TOPIC, OCCUPANCY_TOPIC

#: Records a raw partition may be behind before the worker counts as catching up: a few
#: seconds of a busy partition, far more than one fetch in steady state.
MAX_LAG = 200
#: Records a parking.events partition may be behind: normalize sends one or two per partition
#: and batch, so this is a few batches (up to 5,000 events), and a steady worker stays below.
MAX_EVENTS_LAG = 10


def catching_up(
    app: faust.App, max_lag: int = MAX_LAG, max_events_lag: int = MAX_EVENTS_LAG
) -> bool:
    """True while a raw partition assigned to this worker is more than `max_lag` records
    behind, or a parking.events one more than `max_events_lag` (changelogs and the dead-letter
    topic do not hold timers)."""
    monitor = app.monitor
    ends, read = monitor.tp_end_offsets, monitor.tp_read_offsets
    for tp in app.consumer.assignment():
        if tp not in ends:
            continue
        if tp.topic == EVENTS_TOPIC:
            allowed = max_events_lag
        elif tp.topic.startswith("raw."):
            allowed = max_lag
        else:
            continue
        if ends[tp] - read.get(tp, -1) - 1 > allowed:
            return True
    return False


@dataclass(frozen=True)
class Backlog:
    """What this worker has still to read: the live API's answer to "is it behind?"."""

    #: Vendor payloads in the raw topics not yet read.
    payloads: int
    #: Records of parking.events and parking.occupancy not yet read (up to 500 events each).
    batches: int
    #: Whether the live counts are still half-way through a backlog: timers hold, or the
    #: occupancy agent is more than a few batches behind.
    catching_up: bool


def backlog(app: faust.App, max_events_lag: int = MAX_EVENTS_LAG) -> Backlog:
    """The records this worker's input partitions are behind the broker's last reported end
    (a partition counts once a message of it has been read: the monitor learns its end then).
    Catching up too while partitions are being assigned."""
    monitor = app.monitor
    ends, read = monitor.tp_end_offsets, monitor.tp_read_offsets
    payloads = batches = 0
    occupancy_behind = bool(app.rebalancing)
    for tp in app.consumer.assignment():
        if tp not in ends:
            continue
        behind = max(0, ends[tp] - read.get(tp, -1) - 1)
        if tp.topic.startswith("raw."):
            payloads += behind
        elif tp.topic in (EVENTS_TOPIC, OCCUPANCY_TOPIC):
            batches += behind
            occupancy_behind |= tp.topic == OCCUPANCY_TOPIC and behind > max_events_lag
    return Backlog(payloads, batches, occupancy_behind or catching_up(app))
