"""Session matching: the eight rules of the architecture, out-of-order input and recovery."""

import itertools
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parkflow.events import EntryEvent, ExitEvent, PaymentEvent, TelemetryEvent
from parkflow.records import AnomalyType, CloseReason, SessionStatus
from streaming.rules.sessions import MatchResult, SessionMatcher, VehicleState, vehicle_key

T0 = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
FAC = "FAC-001"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def entry(id_: str, minutes: float, plate: str = "AB12CD", facility: str = FAC) -> EntryEvent:
    return EntryEvent(
        event_id=id_,
        facility_id=facility,
        device_id="CAM-IN-1",
        ts=at(minutes),
        source="camguard",
        plate=plate,
        plate_confidence=0.9,
        gate_id="G-IN-1",
        lane="1",
    )


def exit_(id_: str, minutes: float, plate: str = "AB12CD") -> ExitEvent:
    return ExitEvent(
        event_id=id_,
        facility_id=FAC,
        device_id="CAM-OUT-1",
        ts=at(minutes),
        source="camguard",
        plate=plate,
        plate_confidence=0.9,
        gate_id="G-OUT-1",
        lane="1",
    )


def pay(
    id_: str, minutes: float, amount: str, status: str = "COMPLETED", plate: str = "AB12CD", **extra
) -> PaymentEvent:
    return PaymentEvent(
        event_id=id_,
        facility_id=FAC,
        device_id="PS-1",
        ts=at(minutes),
        source="paymaster",
        transaction_id=id_,
        plate=plate,
        amount=amount,
        currency="EUR",
        method="CREDIT_CARD",
        status=status,
        **extra,
    )


def feed(matcher: SessionMatcher, *events) -> MatchResult:
    result = MatchResult()
    for event in events:
        result.extend(matcher.on_event(event))
    return result


def latest(result: MatchResult) -> dict:
    """The last version of each session emitted."""
    sessions = {}
    for session in result.sessions:
        sessions[session.session_id] = session
    return sessions


@pytest.fixture
def matcher():
    return SessionMatcher({})


def test_rule_1_an_entry_opens_a_session_named_after_it(matcher):
    [session] = matcher.on_event(entry("e1", 0)).sessions
    assert session.session_id == session.entry_event_id == "e1"
    assert session.status is SessionStatus.OPEN
    assert (session.version, session.plate, session.entry_ts) == (1, "AB12CD", at(0))


def test_rule_2_payments_accumulate_completed_minus_refunded(matcher):
    result = feed(
        matcher,
        entry("e1", 0),
        pay("p1", 30, "5.00"),
        pay("p2", 31, "3.00", "FAILED"),
        pay("p3", 32, "3.00"),
        pay("p4", 33, "1.50", "REFUNDED"),
        pay("p5", 34, "9.99", "PENDING"),
    )
    session = latest(result)["e1"]
    assert session.amount_paid == Decimal("6.50")
    assert session.payments == 5
    assert session.version == 6


def test_rule_3_an_exit_closes_the_session_with_its_duration(matcher):
    result = feed(matcher, entry("e1", 0), exit_("x1", 95.5))
    session = latest(result)["e1"]
    assert session.status is SessionStatus.CLOSED
    assert session.close_reason is CloseReason.EXIT
    assert (session.exit_event_id, session.exit_ts, session.duration_s) == ("x1", at(95.5), 5730)
    assert session.updated_at == at(95.5)


def test_rule_4_a_new_entry_abandons_the_open_session(matcher):
    result = feed(matcher, entry("e1", 0), entry("e2", 60))
    sessions = latest(result)
    assert sessions["e1"].status is SessionStatus.ABANDONED
    assert sessions["e1"].close_reason is CloseReason.NEW_ENTRY
    assert sessions["e1"].duration_s is None
    assert sessions["e2"].status is SessionStatus.OPEN


def test_rule_4_is_per_facility_and_plate(matcher):
    result = feed(
        matcher, entry("e1", 0), entry("e2", 1, plate="ZZ99"), entry("e3", 2, facility="FAC-004")
    )
    assert all(s.status is SessionStatus.OPEN for s in latest(result).values())


def test_rule_5_a_stay_longer_than_the_max_is_abandoned_at_the_limit(matcher):
    matcher.on_event(entry("e1", 0))
    assert matcher.advance(at(72 * 60)).sessions == []  # exactly at the limit: still open
    [session] = matcher.advance(at(72 * 60 + 1)).sessions
    assert session.status is SessionStatus.ABANDONED
    assert session.close_reason is CloseReason.MAX_STAY
    assert session.updated_at == at(72 * 60)
    assert matcher.advance(at(80 * 60)).sessions == []  # emitted once


def test_rule_5_max_stay_per_facility():
    matcher = SessionMatcher({}, max_stay={FAC: timedelta(hours=24)})
    matcher.on_event(entry("e1", 0))
    matcher.on_event(entry("e2", 0, facility="FAC-004"))
    [session] = matcher.advance(at(25 * 60)).sessions
    assert session.session_id == "e1"


def test_rule_6_an_exit_waits_for_a_late_entry_within_the_grace_window(matcher):
    assert matcher.on_event(exit_("x1", 30)).sessions == []
    assert matcher.advance(at(40)) == MatchResult()  # exactly 10 minutes: still waiting
    session = latest(matcher.on_event(entry("e1", 5)))["e1"]
    assert session.status is SessionStatus.CLOSED
    assert (session.exit_event_id, session.duration_s) == ("x1", 25 * 60)
    assert matcher.advance(at(60)).anomalies == []


def test_rule_6_after_the_grace_window_the_exit_is_an_unmatched_anomaly(matcher):
    matcher.on_event(exit_("x1", 30))
    [anomaly] = matcher.advance(at(40.1)).anomalies
    assert anomaly.anomaly_type is AnomalyType.UNMATCHED_EXIT
    assert (anomaly.event_id, anomaly.facility_id, anomaly.plate) == ("x1", FAC, "AB12CD")
    assert anomaly.ts == at(30)
    assert "10 min" in anomaly.detail
    assert matcher.advance(at(50)).anomalies == []  # reported once
    # an entry arriving after the window opens a new session; the exit is not reused
    assert latest(matcher.on_event(entry("e1", 5)))["e1"].status is SessionStatus.OPEN


def test_rule_6_an_exit_before_the_entry_does_not_close_it(matcher):
    feed(matcher, entry("e1", 60))
    assert matcher.on_event(exit_("x1", 30)).sessions == []
    [anomaly] = matcher.advance(at(41)).anomalies
    assert anomaly.anomaly_type is AnomalyType.UNMATCHED_EXIT


@pytest.mark.parametrize("repeat", ["entry", "exit", "payment"])
def test_rule_7_the_same_event_id_is_processed_once(matcher, repeat):
    events = {"entry": entry("e1", 0), "payment": pay("p1", 10, "4.00"), "exit": exit_("x1", 20)}
    first = latest(feed(matcher, *events.values()))["e1"]
    again = matcher.on_event(events[repeat])
    assert again.sessions == []
    [anomaly] = again.anomalies
    assert anomaly.anomaly_type is AnomalyType.DUPLICATE_EVENT
    assert anomaly.event_id == events[repeat].event_id
    assert first.amount_paid == Decimal("4.00")
    assert matcher.state[vehicle_key(FAC, "AB12CD")].sessions[-1] == first


def test_rule_7_duplicates_of_an_unmatched_exit_are_recognised(matcher):
    matcher.on_event(exit_("x1", 30))
    assert matcher.on_event(exit_("x1", 30)).anomalies[0].anomaly_type is (
        AnomalyType.DUPLICATE_EVENT
    )
    assert len(matcher.advance(at(45)).anomalies) == 1


def test_rule_8_every_input_is_a_session_part_or_an_anomaly():
    """Random streams of entries, payments and exits, shuffled and with repeats."""
    rng = random.Random(8)
    for _ in range(200):
        matcher = SessionMatcher({})
        events = []
        for n in range(rng.randint(1, 12)):
            minutes = rng.uniform(0, 600)
            kind = rng.choice(["entry", "exit", "payment"])
            plate = rng.choice(["AA11", "BB22"])
            if kind == "entry":
                events.append(entry(f"e{n}", minutes, plate))
            elif kind == "exit":
                events.append(exit_(f"x{n}", minutes, plate))
            else:
                events.append(pay(f"p{n}", minutes, "2.00", plate=plate))
        events += rng.sample(events, k=min(2, len(events)))  # re-sent
        rng.shuffle(events)
        result = feed(matcher, *events)
        result.extend(matcher.advance(at(10_000)))
        sessions = latest(result)
        parts = Counter()
        for session in sessions.values():
            parts[session.entry_event_id] += 1
            if session.exit_event_id:
                parts[session.exit_event_id] += 1
        anomalies = Counter(
            a.event_id
            for a in result.anomalies
            if a.anomaly_type is not AnomalyType.DUPLICATE_EVENT
        )
        paid_ids = {e.event_id for e in events if isinstance(e, PaymentEvent)}
        paid_in_sessions = sum(s.payments for s in sessions.values())
        for event in {e.event_id: e for e in events}.values():
            if isinstance(event, PaymentEvent):
                continue
            assert parts[event.event_id] + anomalies[event.event_id] == 1, event
        assert paid_in_sessions + sum(anomalies[i] for i in paid_ids) == len(paid_ids)
        duplicates = [a for a in result.anomalies if a.anomaly_type is AnomalyType.DUPLICATE_EVENT]
        assert len(duplicates) == len(events) - len({e.event_id for e in events})


def test_entries_minus_exits_corrected_by_the_matcher_are_the_open_sessions():
    """The live count (entries - exits + the matcher's corrections) is the vehicles of the
    OPEN sessions once no exit waits: missed exits, missed entries, late and shuffled ones."""
    rng = random.Random(23)
    for _ in range(200):
        matcher = SessionMatcher({})
        events = []
        for n in range(rng.randint(1, 14)):
            minutes = rng.uniform(0, 600)
            plate = rng.choice(["AA11", "BB22", "CC33"])
            maker = rng.choice([entry, entry, exit_])
            events.append(maker(f"{maker.__name__}{n}", minutes, plate))
        events += rng.sample(events, k=min(2, len(events)))  # re-sent
        rng.shuffle(events)
        result = feed(matcher, *events)
        unique = {e.event_id: e for e in events}.values()
        raw = sum(1 if isinstance(e, EntryEvent) else -1 for e in unique)
        for until in (at(700), at(10_000)):  # exits expired; then the max stay too
            result.extend(matcher.advance(until))
            corrections = {c.correction_id: c.delta for c in result.inside}
            still_open = [s for s in latest(result).values() if s.status is SessionStatus.OPEN]
            assert raw + sum(corrections.values()) == len(still_open), (events, until)


def test_a_payment_before_its_entry_waits_and_then_counts(matcher):
    matcher.on_event(pay("p1", 50, "6.00"))
    session = latest(feed(matcher, entry("e1", 10), exit_("x1", 60)))["e1"]
    assert (session.amount_paid, session.payments) == (Decimal("6.00"), 1)


def test_a_payment_with_no_session_becomes_an_anomaly(matcher):
    matcher.on_event(pay("p1", 50, "6.00"))
    [anomaly] = matcher.advance(at(61)).anomalies
    assert anomaly.anomaly_type is AnomalyType.UNMATCHED_PAYMENT


def test_a_late_payment_or_refund_updates_the_closed_session(matcher):
    feed(matcher, entry("e1", 0), exit_("x1", 60))
    session = latest(feed(matcher, pay("p1", 55, "5.00"), pay("r1", 600, "5.00", "REFUNDED")))
    assert session["e1"].amount_paid == Decimal("0.00")
    assert session["e1"].status is SessionStatus.CLOSED
    assert session["e1"].version == 4


def test_a_late_exit_corrects_a_session_abandoned_by_a_newer_entry(matcher):
    feed(matcher, entry("e1", 0), entry("e2", 120))
    corrected = latest(matcher.on_event(exit_("x1", 60)))
    assert list(corrected) == ["e1"]
    assert corrected["e1"].status is SessionStatus.CLOSED
    assert corrected["e1"].duration_s == 3600
    open_one = matcher.state[vehicle_key(FAC, "AB12CD")].sessions[-1]
    assert (open_one.session_id, open_one.status) == ("e2", SessionStatus.OPEN)


def test_an_exit_after_the_max_stay_leaves_the_session_abandoned(matcher):
    matcher.on_event(entry("e1", 0))
    matcher.advance(at(73 * 60))
    assert matcher.on_event(exit_("x1", 80 * 60)).sessions == []
    [anomaly] = matcher.advance(at(81 * 60)).anomalies
    assert (anomaly.anomaly_type, anomaly.event_id) == (AnomalyType.UNMATCHED_EXIT, "x1")
    assert anomaly.detail == "after the 72 h max stay of session e1"
    session = matcher.state[vehicle_key(FAC, "AB12CD")].sessions[0]
    assert (session.status, session.close_reason) == (SessionStatus.ABANDONED, CloseReason.MAX_STAY)


@pytest.mark.parametrize("order", [("e1", "x1"), ("x1", "e1")])
def test_an_exit_past_the_max_stay_closes_no_session_in_either_order(matcher, order):
    """Before the timer acts too: no CLOSED session is ever longer than its max stay."""
    events = {"e1": entry("e1", 0), "x1": exit_("x1", 72 * 60 + 1)}
    result = feed(matcher, *(events[name] for name in order))
    result.extend(matcher.advance(at(80 * 60)))
    session = latest(result)["e1"]
    assert (session.status, session.close_reason) == (SessionStatus.ABANDONED, CloseReason.MAX_STAY)
    assert [a.event_id for a in result.anomalies] == ["x1"]


def test_an_exit_exactly_at_the_max_stay_still_closes_the_session(matcher):
    feed(matcher, entry("e1", 0))
    session = latest(matcher.on_event(exit_("x1", 72 * 60)))["e1"]
    assert (session.status, session.duration_s) == (SessionStatus.CLOSED, 72 * 3600)


def test_a_late_exit_within_the_max_stay_corrects_the_abandoned_session(matcher):
    matcher.on_event(entry("e1", 0))
    matcher.advance(at(73 * 60))  # the exit was delayed past the timer (another partition)
    session = latest(matcher.on_event(exit_("x1", 70 * 60)))["e1"]
    assert (session.status, session.duration_s) == (SessionStatus.CLOSED, 70 * 3600)


def test_a_late_older_entry_does_not_disturb_the_newer_session(matcher):
    feed(matcher, entry("e2", 120))
    result = latest(matcher.on_event(entry("e1", 0)))
    assert list(result) == ["e1"]
    assert result["e1"].status is SessionStatus.ABANDONED
    assert result["e1"].close_reason is CloseReason.NEW_ENTRY
    later_exit = latest(matcher.on_event(exit_("x1", 60)))["e1"]
    assert later_exit.status is SessionStatus.CLOSED  # its own exit arrived after all


def test_a_late_entry_claims_only_the_first_waiting_exit(matcher):
    feed(matcher, exit_("x1", 30), exit_("x2", 35))
    session = latest(matcher.on_event(entry("e1", 10)))["e1"]
    assert session.exit_event_id == "x1"
    [anomaly] = matcher.advance(at(50)).anomalies
    assert anomaly.event_id == "x2"


def test_other_events_and_meter_payments_are_not_session_parts(matcher):
    telemetry = TelemetryEvent(
        event_id="t1",
        facility_id=FAC,
        device_id="GC-1",
        ts=at(0),
        source="voltwatch",
        voltage_v=230,
        current_a=1,
    )
    meter = pay("m1", 0, "2.00", plate=None)
    by_plate_meter = pay("m2", 0, "2.00", paid_until=at(120))
    assert feed(matcher, telemetry, meter, by_plate_meter) == MatchResult()
    assert matcher.state == {}


def test_state_is_forgotten_after_the_retention_window(matcher):
    feed(matcher, entry("e1", 0), exit_("x1", 60))
    matcher.advance(at(60 + 47 * 60))
    assert vehicle_key(FAC, "AB12CD") in matcher.state
    matcher.advance(at(60 + 49 * 60))
    assert matcher.state == {}


def test_open_sessions_are_kept_until_they_close_or_expire(matcher):
    matcher.on_event(entry("e1", 0))
    matcher.advance(at(60 * 60))
    assert matcher.state[vehicle_key(FAC, "AB12CD")].sessions[0].status is SessionStatus.OPEN


def test_a_restarted_matcher_resumes_from_its_state():
    """The state is JSON (a changelog topic): a new matcher over it carries on."""
    state = {}
    feed(SessionMatcher(state), entry("e1", 0), pay("p1", 20, "3.00"))
    restored = {k: VehicleState.model_validate_json(v.model_dump_json()) for k, v in state.items()}
    resumed = SessionMatcher(restored)
    session = latest(feed(resumed, exit_("x1", 30), pay("p1", 20, "3.00")))["e1"]
    assert (session.status, session.amount_paid, session.version) == (
        SessionStatus.CLOSED,
        Decimal("3.00"),
        3,
    )
    assert resumed.on_event(entry("e1", 0)).anomalies[0].anomaly_type is (
        AnomalyType.DUPLICATE_EVENT
    )


def test_replays_give_identical_rows():
    events = [
        entry("e1", 0),
        pay("p1", 20, "3.00"),
        exit_("x9", 25, plate="QQ11"),
        exit_("x1", 30),
        entry("e2", 40),
    ]
    runs = []
    for _ in range(2):
        matcher = SessionMatcher({})
        result = feed(matcher, *events)
        result.extend(matcher.advance(at(100)))
        runs.append(result)
    assert runs[0] == runs[1]


def test_a_redelivery_from_the_same_position_is_skipped_silently(matcher):
    matcher.on_event(entry("e1", 0), at="parking.events:3:41")
    assert matcher.on_event(entry("e1", 0), at="parking.events:3:41") == MatchResult()
    resent = matcher.on_event(entry("e1", 0), at="parking.events:0:7")
    assert resent.anomalies[0].anomaly_type is AnomalyType.DUPLICATE_EVENT


def test_a_payment_after_the_exit_waits_for_the_next_entry_of_that_plate(matcher):
    feed(matcher, entry("e1", 0), exit_("x1", 60))
    assert matcher.on_event(pay("p2", 200, "8.00")).sessions == []
    session = latest(feed(matcher, entry("e2", 150)))["e2"]
    assert session.amount_paid == Decimal("8.00")
    first = matcher.state[vehicle_key(FAC, "AB12CD")].sessions[0]
    assert first.amount_paid == Decimal("0.00")


def test_a_payment_after_the_exit_with_no_new_entry_counts_for_the_last_session(matcher):
    feed(matcher, entry("e1", 0), exit_("x1", 60))
    matcher.on_event(pay("p2", 70, "8.00"))
    result = matcher.advance(at(81))
    assert result.anomalies == []
    assert result.sessions[0].amount_paid == Decimal("8.00")


def test_a_payment_taken_by_the_previous_session_moves_when_its_exit_shows_it_was_later(matcher):
    """Out of order: session 2's payment arrives while session 1 still looks open."""
    feed(matcher, entry("e1", 0), pay("p2", 200, "8.00"))
    result = latest(feed(matcher, exit_("x1", 60), entry("e2", 150), exit_("x2", 240)))
    first = matcher.state[vehicle_key(FAC, "AB12CD")].sessions[0]
    assert first.amount_paid == Decimal("0.00")
    assert result["e2"].amount_paid == Decimal("8.00")


@pytest.mark.parametrize("order", list(itertools.permutations(["e2", "p2", "x2"])), ids="-".join)
def test_a_late_entry_takes_back_the_exit_and_payment_an_older_session_got_meanwhile(order):
    """A vehicle missed its exit camera once (e1), came back (e2), paid and left. However the
    later events arrive (entry and exit cameras sit on different partitions; a restarted worker
    resumes each from its own offset), the result is that of the in-order stream."""
    events = {"e2": entry("e2", 300), "p2": pay("p2", 350, "8.00"), "x2": exit_("x2", 360)}
    matcher = SessionMatcher({})
    result = feed(matcher, entry("e1", 0), *(events[name] for name in order))
    sessions = latest(result)
    assert sessions["e1"].status is SessionStatus.ABANDONED
    assert sessions["e1"].close_reason is CloseReason.NEW_ENTRY
    assert (sessions["e1"].exit_event_id, sessions["e1"].amount_paid) == (None, Decimal("0.00"))
    assert sessions["e2"].status is SessionStatus.CLOSED
    assert (sessions["e2"].exit_event_id, sessions["e2"].duration_s) == ("x2", 3600)
    assert sessions["e2"].amount_paid == Decimal("8.00")


#: One vehicle's days, each meant to catch a way arrival order could leak into the result.
HISTORIES = {
    # two visits: the first visit's exit arriving after the second visit's makes the first
    # session take the wrong exit, until its own shows up
    "two visits": [entry("e1", 0), pay("p1", 50, "5.00"), exit_("x1", 60), entry("e2", 120),
                   pay("p2", 170, "8.00"), exit_("x2", 180)],
    # the second entry was misread: its payment and exit have no entry of their own
    "misread entry": [entry("e1", 0), pay("p1", 55, "5.00"), exit_("x1", 60),
                      pay("p2", 600, "25.00"), exit_("x2", 610)],
    # a missed exit, then two visits: payments made during a visit stay with it even when the
    # visit's entry comes after a newer one has already abandoned the first
    "missed exit": [entry("e1", 0), pay("p1", 50, "8.00"), entry("e2", 400),
                    pay("p2", 490, "8.00"), exit_("x2", 500), entry("e3", 700),
                    pay("p3", 850, "11.00"), exit_("x3", 860)],
    # a refund made during the second visit counts there, wherever it arrives
    "refund": [entry("e1", 0), pay("p1", 140, "9.00"), exit_("x1", 145), entry("e2", 500),
               pay("p2", 570, "6.50"), exit_("x2", 580), pay("r1", 800, "9.00", "REFUNDED")],
}  # fmt: skip


def outcome(events) -> tuple[dict, set]:
    """Each session's final columns and the anomalies, timers run once all has arrived."""
    matcher = SessionMatcher({})
    result = feed(matcher, *events)
    result.extend(matcher.advance(at(24 * 60)))
    rows = {
        sid: (s.status, s.exit_event_id, s.amount_paid, s.payments)
        for sid, s in latest(result).items()
    }
    return rows, {a.anomaly_id for a in result.anomalies}


@pytest.mark.parametrize("name", list(HISTORIES))
@given(data=st.data())
@settings(max_examples=150, deadline=None)
def test_arrival_order_does_not_change_the_sessions(name, data):
    """Entries, exits and payments come from different devices and partitions, so any order is
    possible: the sessions are those of the in-order stream whatever the order."""
    events = HISTORIES[name]
    shuffled = data.draw(st.permutations(events))
    assert outcome(shuffled) == outcome(events)
