"""Running plugins safely: limits, plugin bugs and dead letters never crash the caller."""

import base64
from datetime import UTC, datetime, timedelta

from parkflow.parsing import DeadLetter, FeedClock, later_of, parse_payload, pseudonymise_plates
from parkflow.plates import PlateHasher
from tests.core.fake_plugins import GoodPlugin, LeakyPlugin, UnvalidatedPlugin

GOOD = b'{"id": "1", "plate": "AB-12-CD"}'


def test_a_good_payload_gives_events():
    result = parse_payload(GoodPlugin(), GOOD)
    assert result.ok and len(result.events) == 1


def test_a_payload_error_becomes_the_reason():
    result = parse_payload(GoodPlugin(), b"[]")
    assert not result.ok
    assert result.error == "need an object with a plate"


def test_oversize_payloads_are_refused_before_parsing():
    result = parse_payload(GoodPlugin(), b" " * 2048, max_bytes=1024)
    assert result.error == "payload is 2048 bytes, over the limit of 1024"


def test_a_plugin_bug_is_a_dead_letter_not_a_crash():
    result = parse_payload(LeakyPlugin(), b'{"plate": "AB"}')
    assert result.error.startswith("plugin leaky failed: KeyError")


def test_events_the_plugin_did_not_validate_are_not_checked_here_but_are_events():
    # parse_payload checks the contract's shape; the conformance kit catches invalid values
    assert parse_payload(UnvalidatedPlugin(), GOOD).ok


def test_dead_letters_keep_the_bytes_and_dedupe_by_content():
    letter = DeadLetter.of("good", b"\xff\x00", "broken", topic="raw.good", partition=1, offset=9)
    assert letter.payload == b"\xff\x00"
    assert base64.b64decode(letter.payload_b64) == b"\xff\x00"
    by_content = DeadLetter.of("good", b"\xff\x00", "broken")
    assert by_content.dead_letter_id == DeadLetter.of("good", b"\xff\x00", "other").dead_letter_id
    assert by_content.dead_letter_id != DeadLetter.of("good", b"\xff\x01", "x").dead_letter_id
    # from Kafka, the message's position identifies it: equal bytes at two offsets are two
    again = DeadLetter.of("good", b"\xff\x00", "broken", topic="raw.good", partition=1, offset=9)
    other = DeadLetter.of("good", b"\xff\x00", "broken", topic="raw.good", partition=1, offset=10)
    assert letter.dead_letter_id == again.dead_letter_id != other.dead_letter_id


def test_pseudonymise_plates_hides_every_plate():
    [event] = parse_payload(GoodPlugin(), GOOD).events
    [hidden] = pseudonymise_plates([event], PlateHasher(b"k" * 32))
    assert hidden.plate != event.plate and len(hidden.plate) == 20
    assert hidden.model_dump(exclude={"plate"}) == event.model_dump(exclude={"plate"})


def test_the_feed_clock_keeps_each_source_s_newest_event_time():
    [event] = parse_payload(GoodPlugin(), GOOD).events
    early, late = event.ts - timedelta(hours=1), event.ts
    clock = FeedClock()
    assert clock.feed_time("good") is None
    clock.saw("good", [event, event.model_copy(update={"ts": early})])
    clock.saw("good", [event.model_copy(update={"ts": early})])  # an older one sent later
    assert clock.feed_time("good") == late
    assert clock.feed_time("other") is None
    assert clock.feed_time("other", since=early) == early
    assert clock.feed_time("good", since=early) == late
    clock.update({"good": late + timedelta(minutes=1), "other": early})
    assert clock.newest == {"good": late + timedelta(minutes=1), "other": early}
    assert later_of(None, early, None, late) == late and later_of() is None


def test_a_dead_letter_keeps_its_place_in_the_feed_apart_from_its_receipt():
    received, placed = datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 11, 20, 7, tzinfo=UTC)
    letter = DeadLetter.of("good", b"\xff", "broken", received_at=received, feed_time=placed)
    assert (letter.received_at, letter.feed_time) == (received, placed)
    assert DeadLetter.model_validate_json(letter.model_dump_json()) == letter
    assert DeadLetter.of("good", b"\xff", "broken").feed_time is None
    # a dead letter sent before the field existed still reads
    old = letter.model_dump(mode="json", exclude={"feed_time"})
    assert DeadLetter.model_validate(old).feed_time is None
