"""Session matching: entries, payments and exits of one vehicle become parking sessions.

Plain Python with no Faust in it: the sessions agent is a thin shell around
`SessionMatcher`, and batch replay (tests, benchmarks, backfills) uses it as is.
State is one `VehicleState` per (facility, plate) key in a mapping the caller
owns (a dict, or a changelog-backed Faust Table), so a restart resumes from it.

The rules (ARCHITECTURE, "Session matching rules"):

1. An entry opens a session; its id is the entry's event id.
2. Payments accumulate on the session: COMPLETED adds, REFUNDED subtracts. A payment
   made after the last exit first waits `grace` for a newer entry (it is more often
   early than late); then it counts for the session before it (paid after leaving).
3. An exit closes the open session: CLOSED, duration = exit ts - entry ts.
4. An entry while a session is open closes the old one as ABANDONED (missed exit).
5. A session open longer than the facility's max stay is emitted ABANDONED. No exit
   closes it after that: a later exit is unmatched (rule 6), so no CLOSED session is
   ever longer than its max stay.
6. An exit with no session to close waits `grace` in event time for a late
   entry; after that it is an UNMATCHED_EXIT anomaly.
7. The same event id twice is processed once (the repeat is a DUPLICATE_EVENT anomaly).
8. Nothing is dropped silently: every input is a session part or an anomaly.

Events can arrive out of order. Each key keeps its recent sessions in entry
order, so a late exit closes the session it belongs to (correcting one that
was abandoned meanwhile, or taking the place of a later exit the session got
meanwhile, which then waits again), and a late entry claims exits and payments
waiting for it, or made after it but taken meanwhile by the session before
(which then missed its exit: rule 4). Until the timers act, the result does not
depend on the arrival order (tests/streaming/test_session_rules.py shuffles it).
Every change emits the whole session again with a higher `version`; readers
keep the latest version per session id. Times are event times: the same input
gives the same output in the stream and in a replay.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, Field

from parkflow.events import (
    CanonicalEvent,
    EntryEvent,
    EventType,
    ExitEvent,
    PaymentEvent,
    PaymentStatus,
    UtcTime,
)
from parkflow.records import (
    AnomalyRecord,
    AnomalyType,
    CloseReason,
    SessionRecord,
    SessionStatus,
)

DEFAULT_GRACE = timedelta(minutes=10)
DEFAULT_MAX_STAY = timedelta(hours=72)
#: How long a finished session, and the event ids of a vehicle, are remembered: late
#: payments and refunds still find their session, and re-sent events are recognised.
DEFAULT_RETENTION = timedelta(hours=48)
_PAYMENT_SIGN = {PaymentStatus.COMPLETED: 1, PaymentStatus.REFUNDED: -1}


class Waiting(BaseModel):
    """An exit or payment waiting for the entry it belongs to (rule 6)."""

    event_id: str
    event_type: EventType
    facility_id: str
    plate: str
    ts: UtcTime
    device_id: str
    amount: Decimal = Decimal("0.00")
    status: PaymentStatus | None = None

    @classmethod
    def of(cls, event: ExitEvent | PaymentEvent) -> Waiting:
        """What to remember of an exit or a payment while it waits."""
        payment = isinstance(event, PaymentEvent)
        return cls(
            event_id=event.event_id,
            event_type=event.event_type,
            facility_id=event.facility_id,
            plate=event.plate,
            ts=event.ts,
            device_id=event.device_id,
            amount=event.amount if payment else Decimal("0.00"),
            status=event.status if payment else None,
        )


class Seen(BaseModel):
    """An event id the matcher has processed: its event time and, from Kafka, its position."""

    ts: UtcTime
    at: str | None = None


class VehicleState(BaseModel):
    """Everything the matcher remembers about one vehicle at one facility."""

    sessions: list[SessionRecord] = Field(default_factory=list)  # recent ones, by entry time
    paid: dict[str, list[Waiting]] = Field(default_factory=dict)  # session id -> its payments
    waiting: list[Waiting] = Field(default_factory=list)
    seen: dict[str, Seen] = Field(default_factory=dict)  # event id -> when and where


@dataclass(frozen=True, slots=True)
class InsideCorrection:
    """A change to a facility's vehicles inside that entries minus exits cannot see: -1 when
    a session turns ABANDONED (its exit was missed: the vehicle is not inside any more),
    +1 when a late exit closes it after all, or an exit matches no entry (its entry was
    missed: counting the exit alone would take away a vehicle that was never added)."""

    correction_id: str  # the same change computed again (a replay, a restart) has the same id
    facility_id: str
    ts: datetime
    delta: int


@dataclass
class MatchResult:
    """What one input (or one timer tick) produced."""

    sessions: list[SessionRecord] = field(default_factory=list)
    anomalies: list[AnomalyRecord] = field(default_factory=list)
    inside: list[InsideCorrection] = field(default_factory=list)

    def extend(self, other: MatchResult) -> None:
        """Append another result's rows."""
        self.sessions += other.sessions
        self.anomalies += other.anomalies
        self.inside += other.inside


def is_session_part(event: CanonicalEvent) -> bool:
    """True for entries, exits and gated-site parking payments (the matcher's inputs).

    Maintenance, diagnostic and test transactions pay for no stay: they are no session part.
    """
    if isinstance(event, EntryEvent | ExitEvent):
        return True
    return (
        isinstance(event, PaymentEvent)
        and event.plate is not None
        and event.paid_until is None
        and event.is_revenue
    )


def vehicle_key(facility_id: str, plate: str) -> str:
    """The state key of a vehicle at a facility (also the Kafka key of its events)."""
    return f"{facility_id}|{plate}"


class SessionMatcher:
    """Matches the entry, payment and exit events of vehicles into sessions."""

    def __init__(
        self,
        state: MutableMapping[str, VehicleState],
        *,
        grace: timedelta = DEFAULT_GRACE,
        max_stay: Mapping[str, timedelta] | None = None,
        default_max_stay: timedelta = DEFAULT_MAX_STAY,
        retention: timedelta = DEFAULT_RETENTION,
    ) -> None:
        self.state = state
        self.grace = grace
        self.max_stay = dict(max_stay or {})
        self.default_max_stay = default_max_stay
        self.retention = retention
        self._timers: list[tuple[datetime, str]] | None = None  # (deadline, key) heap

    # --- input -----------------------------------------------------------------------------

    def on_event(self, event: CanonicalEvent, at: str | None = None) -> MatchResult:
        """Apply one entry, exit or payment; other events are not session parts (ignored).

        Street-meter payments (no plate, or a `paid_until`) pay for time at a meter, not
        for a gated stay: they are not session parts either. `at` is where the event was
        read from (e.g. "topic:partition:offset"): the same event read again from the same
        place is a re-delivery after a restart and is skipped silently, while the same id
        from anywhere else is a duplicate sent by the device (rule 7).
        """
        if not is_session_part(event):
            return MatchResult()
        plate = event.plate
        key = vehicle_key(event.facility_id, plate)
        vehicle = self.state.get(key) or VehicleState()
        seen = vehicle.seen.get(event.event_id)
        if seen is not None:
            if at is not None and seen.at == at:
                return MatchResult()
            return MatchResult(
                anomalies=[
                    _anomaly(AnomalyType.DUPLICATE_EVENT, event, event.ts, "event id seen before")
                ]
            )
        vehicle.seen[event.event_id] = Seen(ts=event.ts, at=at)
        abandoned = _abandoned(vehicle)
        if isinstance(event, EntryEvent):
            result = self._entry(vehicle, event)
        elif isinstance(event, ExitEvent):
            result = self._exit(vehicle, event)
        else:
            result = self._payment(vehicle, event)
        result.inside += _inside_corrections(abandoned, result)
        self.state[key] = vehicle
        self._schedule(key, vehicle)
        return result

    def _entry(self, vehicle: VehicleState, event: EntryEvent) -> MatchResult:
        result = MatchResult()
        session = SessionRecord(
            session_id=event.event_id,
            facility_id=event.facility_id,
            plate=event.plate,
            status=SessionStatus.OPEN,
            entry_event_id=event.event_id,
            entry_ts=event.ts,
            entry_device_id=event.device_id,
            updated_at=event.ts,
        )
        later = [s for s in vehicle.sessions if s.entry_ts > event.ts]
        earlier = [s for s in vehicle.sessions if s.entry_ts <= event.ts]
        next_entry = later[0].entry_ts if later else None
        handed: list[Waiting] = []
        if earlier:  # rule 4
            superseded, handed = _supersede(vehicle, earlier[-1], event.ts, next_entry)
            if superseded is not None:
                earlier[-1] = superseded
                result.sessions.append(superseded)
        vehicle.sessions = [*earlier, session, *later]
        index = len(earlier)
        # exits and payments that arrived before their (late) entry
        vehicle.waiting += handed
        claimed = [
            w
            for w in vehicle.waiting
            if w.ts >= event.ts
            and (next_entry is None or w.ts < next_entry)
            and not (w.event_type is EventType.EXIT and self._past_max_stay(session, w.ts))
        ]
        exits = [w for w in claimed if w.event_type is EventType.EXIT]
        first_exit = min(exits, key=lambda w: w.ts) if exits else None
        payments = [w for w in claimed if w.event_type is EventType.PAYMENT]
        taken = [*payments, first_exit] if first_exit else payments
        vehicle.waiting = [w for w in vehicle.waiting if not any(w is t for t in taken)]
        if first_exit is not None:
            result.sessions += self._close(vehicle, index, first_exit)
        elif later:  # an older entry arriving late, superseded by the newer one
            vehicle.sessions[index] = _advance(
                session,
                session.updated_at,
                status=SessionStatus.ABANDONED,
                close_reason=CloseReason.NEW_ENTRY,
            )
        for payment in payments:
            result.sessions += self._place_payment(vehicle, payment)
        result.sessions.append(vehicle.sessions[index])
        return result

    def _exit(self, vehicle: VehicleState, event: ExitEvent) -> MatchResult:
        exit_ = Waiting.of(event)
        index = self._session_for(vehicle, event.ts)
        if index is None or self._past_max_stay(vehicle.sessions[index], event.ts):
            # no session, or only one that had reached its max stay (rule 5): the exit waits
            # for a late entry, else it is unmatched
            vehicle.waiting.append(exit_)
            return MatchResult()
        session = vehicle.sessions[index]
        if session.status is not SessionStatus.CLOSED:
            # an open session closes (rule 3); an abandoned one was only missing this exit
            return MatchResult(sessions=self._close(vehicle, index, exit_))
        if session.exit_ts is not None and exit_.ts < session.exit_ts:
            # the session took a later exit only because this one came late (another
            # partition): in time order this one closes it, and the later exit waits for an
            # entry of its own, as it would have
            displaced = _exit_of(session)
            changed = self._close(vehicle, index, exit_)
            vehicle.waiting.append(displaced)
            return MatchResult(sessions=changed)
        vehicle.waiting.append(exit_)
        return MatchResult()

    def _payment(self, vehicle: VehicleState, event: PaymentEvent) -> MatchResult:
        return MatchResult(sessions=self._place_payment(vehicle, Waiting.of(event)))

    def _place_payment(self, vehicle: VehicleState, payment: Waiting) -> list[SessionRecord]:
        """Attach a payment to its session, or let it wait for an entry still on its way."""
        index = self._session_for(vehicle, payment.ts)
        if index is None or _after_exit(vehicle.sessions[index], payment):
            # before any entry, or a payment after the last exit: most likely for an entry
            # that has not arrived yet; it waits like an exit does
            vehicle.waiting.append(payment)
            return []
        return [self._attach(vehicle, index, payment)]

    @staticmethod
    def _attach(vehicle: VehicleState, index: int, payment: Waiting) -> SessionRecord:
        session = vehicle.sessions[index]
        payments = vehicle.paid.setdefault(session.session_id, [])
        payments.append(payment)
        vehicle.sessions[index] = _with_payments(session, payments, payment.ts)
        return vehicle.sessions[index]

    def _close(self, vehicle: VehicleState, index: int, exit_: Waiting) -> list[SessionRecord]:
        """Close a session with its exit; payments made after that exit were not for it."""
        session = vehicle.sessions[index]
        closed = _advance(
            session,
            exit_.ts,
            status=SessionStatus.CLOSED,
            close_reason=CloseReason.EXIT,
            exit_event_id=exit_.event_id,
            exit_ts=exit_.ts,
            exit_device_id=exit_.device_id,
            duration_s=int((exit_.ts - session.entry_ts).total_seconds()),
        )
        payments = vehicle.paid.get(session.session_id, [])
        moved = [p for p in payments if _after_exit(closed, p)]
        if moved:
            kept = [p for p in payments if p not in moved]
            vehicle.paid[session.session_id] = kept
            closed = _with_payments(closed, kept, exit_.ts)
        vehicle.sessions[index] = closed
        changed = [closed]
        for payment in moved:
            changed += self._place_payment(vehicle, payment)
        return changed

    @staticmethod
    def _session_for(vehicle: VehicleState, ts: datetime) -> int | None:
        """Index of the newest session that had started by `ts`."""
        for index in range(len(vehicle.sessions) - 1, -1, -1):
            if vehicle.sessions[index].entry_ts <= ts:
                return index
        return None

    # --- timers ----------------------------------------------------------------------------

    def advance(self, now: datetime) -> MatchResult:
        """Event time reached `now`: expire waiting exits (rule 6), over-long stays (rule 5),
        and forget what is older than the retention window.

        Only keys with a deadline before `now` are visited (a heap of deadlines, rebuilt
        from the state after a restart), so a tick costs nothing when nothing is due.
        """
        if self._timers is None:
            self._timers = []
            for key, vehicle in self.state.items():
                self._schedule(key, vehicle)
        result = MatchResult()
        while self._timers and self._timers[0][0] < now:
            _, key = heapq.heappop(self._timers)
            vehicle = self.state.get(key)
            if vehicle is None:
                continue
            abandoned = _abandoned(vehicle)
            expired = MatchResult()
            changed = self._expire(vehicle, now, expired)
            expired.inside += _inside_corrections(abandoned, expired)
            result.extend(expired)
            if not vehicle.sessions and not vehicle.waiting and not vehicle.seen:
                del self.state[key]
                continue
            if changed:
                self.state[key] = vehicle
            self._schedule(key, vehicle)
        return result

    def reset_timers(self) -> None:
        """Forget the deadline index (after the state was replaced); rebuilt on next advance."""
        self._timers = None

    def _schedule(self, key: str, vehicle: VehicleState) -> None:
        """Remember when `key` next needs a look: its earliest expiry or eviction."""
        if self._timers is None:
            return  # built from the whole state on the first advance
        deadlines = [w.ts + self.grace for w in vehicle.waiting]
        for session in vehicle.sessions:
            if session.status is SessionStatus.OPEN:
                deadlines.append(session.entry_ts + self._max_stay(session.facility_id))
            else:
                deadlines.append((session.exit_ts or session.updated_at) + self.retention)
        if vehicle.seen:
            deadlines.append(min(seen.ts for seen in vehicle.seen.values()) + self.retention)
        if deadlines:
            heapq.heappush(self._timers, (min(deadlines), key))

    def _max_stay(self, facility_id: str) -> timedelta:
        return self.max_stay.get(facility_id, self.default_max_stay)

    def _past_max_stay(self, session: SessionRecord, ts: datetime) -> bool:
        """An exit at `ts` would make `session` longer than its max stay: not its exit."""
        return ts - session.entry_ts > self._max_stay(session.facility_id)

    def _expire(self, vehicle: VehicleState, now: datetime, result: MatchResult) -> bool:
        changed = False
        for index, session in enumerate(vehicle.sessions):
            limit = self._max_stay(session.facility_id)
            if session.status is SessionStatus.OPEN and now - session.entry_ts > limit:
                abandoned = _advance(
                    session,
                    session.entry_ts + limit,
                    status=SessionStatus.ABANDONED,
                    close_reason=CloseReason.MAX_STAY,
                )
                vehicle.sessions[index] = abandoned
                result.sessions.append(abandoned)
                changed = True
        expired = [w for w in vehicle.waiting if now - w.ts > self.grace]
        for waiting in expired:
            index = self._session_for(vehicle, waiting.ts)
            if waiting.event_type is EventType.PAYMENT and index is not None:
                # no newer entry came: a payment made after leaving (paying later online)
                result.sessions.append(self._attach(vehicle, index, waiting))
                continue
            kind = (
                AnomalyType.UNMATCHED_EXIT
                if waiting.event_type is EventType.EXIT
                else AnomalyType.UNMATCHED_PAYMENT
            )
            before = vehicle.sessions[index] if index is not None else None
            detail = self._unmatched_because(waiting, before)
            result.anomalies.append(_anomaly(kind, waiting, now, detail))
        if expired:
            vehicle.waiting = [w for w in vehicle.waiting if w not in expired]
            changed = True
        horizon = now - self.retention
        kept = [
            s
            for s in vehicle.sessions
            if s.status is SessionStatus.OPEN or (s.exit_ts or s.updated_at) >= horizon
        ]
        seen = {i: s for i, s in vehicle.seen.items() if s.ts >= horizon}
        if len(kept) != len(vehicle.sessions) or len(seen) != len(vehicle.seen):
            vehicle.sessions, vehicle.seen, changed = kept, seen, True
            ids = {s.session_id for s in kept}
            vehicle.paid = {sid: p for sid, p in vehicle.paid.items() if sid in ids}
        return changed

    def _unmatched_because(self, waiting: Waiting, before: SessionRecord | None) -> str:
        """Why an exit or payment stayed unmatched; `before` is the session started before it."""
        is_exit = waiting.event_type is EventType.EXIT
        if is_exit and before is not None and self._past_max_stay(before, waiting.ts):
            limit = self._max_stay(before.facility_id) / timedelta(hours=1)
            return f"after the {limit:g} h max stay of session {before.session_id}"
        return f"no entry within {self.grace.total_seconds() / 60:g} min"


def _anomaly(
    kind: AnomalyType, source: CanonicalEvent | Waiting, detected_at: datetime, detail: str
) -> AnomalyRecord:
    """An anomaly row; its id depends on kind and event only, so replays and repeats dedupe."""
    return AnomalyRecord(
        anomaly_id=AnomalyRecord.make_id(kind, source.event_id),
        anomaly_type=kind,
        facility_id=source.facility_id,
        event_id=source.event_id,
        event_type=source.event_type.value,
        plate=source.plate,
        ts=source.ts,
        detected_at=detected_at,
        detail=detail,
    )


# --- vehicles inside --------------------------------------------------------------------------


def _abandoned(vehicle: VehicleState) -> frozenset[str]:
    """The ids of the vehicle's sessions that are ABANDONED now."""
    return frozenset(s.session_id for s in vehicle.sessions if s.status is SessionStatus.ABANDONED)


def _inside_corrections(before: frozenset[str], result: MatchResult) -> list[InsideCorrection]:
    """What `result` changes in the vehicles inside beyond its entries and exits (rows of one
    vehicle, whose ABANDONED sessions were `before`)."""
    newest: dict[str, SessionRecord] = {}
    for session in result.sessions:
        held = newest.get(session.session_id)
        if held is None or session.version > held.version:
            newest[session.session_id] = session
    corrections = []
    for session in newest.values():
        now_abandoned = session.status is SessionStatus.ABANDONED
        if now_abandoned != (session.session_id in before):
            delta = -1 if now_abandoned else 1
            identity = f"inside:{session.session_id}:{session.version}:{delta}"
            corrections.append(
                InsideCorrection(identity, session.facility_id, session.updated_at, delta)
            )
    corrections += [
        InsideCorrection(f"inside:{a.anomaly_id}", a.facility_id, a.detected_at, 1)
        for a in result.anomalies
        if a.anomaly_type is AnomalyType.UNMATCHED_EXIT
    ]
    return corrections


# --- session transitions (each returns a new version) ----------------------------------------


def _advance(session: SessionRecord, at: datetime, **changes: object) -> SessionRecord:
    return session.model_copy(
        update={
            **changes,
            "version": session.version + 1,
            "updated_at": max(at, session.updated_at),
        }
    )


def _supersede(
    vehicle: VehicleState, previous: SessionRecord, entry_ts: datetime, next_entry: datetime | None
) -> tuple[SessionRecord | None, list[Waiting]]:
    """What an entry at `entry_ts` does to the session before it (rule 4), whatever the order
    the events came in: the new version of that session (None: unchanged) and the exit and
    payments it hands over to the new session, as if the entry had come first.

    - an open session missed its exit: ABANDONED;
    - a session closed by an exit after this entry got that exit only because the entry came
      late (another partition, a restarted worker): the exit is this session's, and the one
      before missed its own: ABANDONED too;
    - payments and refunds made since this entry are for this session, whatever the state of
      the one before (closed, or abandoned already by a newer entry that came first).
    """
    took_our_exit = (
        previous.status is SessionStatus.CLOSED
        and previous.exit_ts is not None
        and previous.exit_ts > entry_ts
        and (next_entry is None or previous.exit_ts < next_entry)
    )
    handed: list[Waiting] = []
    changes: dict[str, object] = {}
    if previous.status is SessionStatus.OPEN or took_our_exit:
        changes |= {"status": SessionStatus.ABANDONED, "close_reason": CloseReason.NEW_ENTRY}
    if took_our_exit:
        handed.append(_exit_of(previous))
        changes |= {"exit_event_id": None, "exit_ts": None, "exit_device_id": None}
        changes["duration_s"] = None
    payments = vehicle.paid.get(previous.session_id, [])
    moved = [p for p in payments if p.ts >= entry_ts]
    if moved:
        kept = [p for p in payments if p.ts < entry_ts]
        vehicle.paid[previous.session_id] = kept
        changes |= _paid(kept)
        handed += moved
    if not changes:
        return None, []
    return _advance(previous, entry_ts, **changes), handed


def _exit_of(session: SessionRecord) -> Waiting:
    """The exit that closed `session`, as a waiting exit again."""
    return Waiting(
        event_id=session.exit_event_id,
        event_type=EventType.EXIT,
        facility_id=session.facility_id,
        plate=session.plate,
        ts=session.exit_ts,
        device_id=session.exit_device_id,
    )


def _after_exit(session: SessionRecord, payment: Waiting) -> bool:
    """A payment (not a refund) made after the session's exit."""
    return (
        payment.status is not PaymentStatus.REFUNDED
        and session.exit_ts is not None
        and payment.ts > session.exit_ts
    )


def _paid(payments: list[Waiting]) -> dict[str, object]:
    """The amount paid and the number of payments of a session with these payments."""
    amount = sum((_PAYMENT_SIGN.get(p.status, 0) * p.amount for p in payments), Decimal("0.00"))
    return {"amount_paid": amount, "payments": len(payments)}


def _with_payments(session: SessionRecord, payments: list[Waiting], at: datetime) -> SessionRecord:
    """The session with its amount and count recomputed from its payments."""
    return _advance(session, at, **_paid(payments))


def match_stream(
    events: Iterable[CanonicalEvent],
    matcher: SessionMatcher | None = None,
    *,
    tick: timedelta = timedelta(minutes=1),
    until: datetime | None = None,
) -> MatchResult:
    """Batch replay: events in arrival order, event time advanced as the stream agent does.

    The watermark is the newest event time seen; timers run each time it passes
    another `tick`, and once more at `until` (default: the watermark) at the end.
    """
    matcher = matcher or SessionMatcher({})
    result = MatchResult()
    watermark = next_tick = None
    for event in events:
        if not is_session_part(event):
            continue
        result.extend(matcher.on_event(event))
        if watermark is None or event.ts > watermark:
            watermark = event.ts
        if next_tick is None:
            next_tick = watermark + tick
        elif watermark >= next_tick:
            result.extend(matcher.advance(watermark))
            next_tick = watermark + tick
    end = until or watermark
    if end is not None:
        result.extend(matcher.advance(end))
    return result


def latest_versions(sessions: Iterable[SessionRecord]) -> dict[str, SessionRecord]:
    """The newest version of each session (what the marts keep)."""
    newest: dict[str, SessionRecord] = {}
    for session in sessions:
        kept = newest.get(session.session_id)
        if kept is None or session.version > kept.version:
            newest[session.session_id] = session
    return newest
