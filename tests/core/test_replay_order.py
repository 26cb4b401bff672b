"""Vendor files in event-time order: header lines and unparsable first lines follow their
file's first event, so that their dead letters are dated in the file's history."""

from pathlib import Path

import orjson

from parkflow import replay
from parkflow.registry import PluginRegistry
from parkflow.replay import EARLIEST, parsed_payloads, replay_payloads, vendor_files

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def test_header_lines_of_an_export_are_skipped_not_sent(tmp_path):
    registry = PluginRegistry.discover()
    header = registry.get("citycount").header_line
    rows = [f"FAC-003,Riverside,2026-11-20 08:{m:02d}:00,{400 + m},600,open" for m in (5, 20)]
    feed = tmp_path / "citycount.csv"
    feed.write_text("\n".join([header, rows[0], header, rows[1]]) + "\n")
    parsed = list(parsed_payloads([("citycount", feed)], registry))
    assert [item.payload.data.decode() for item in parsed] == rows
    assert all(item.result.ok for item in parsed)


def test_files_that_open_with_a_bad_line_merge_with_the_others(tmp_path):
    registry = PluginRegistry.discover()
    counts = (PLUGINS / "citycount" / "samples" / "single_reading.csv").read_bytes().strip()
    camera = orjson.dumps(
        orjson.loads((PLUGINS / "camguard" / "samples" / "entry_single.json").read_bytes())
    )
    (tmp_path / "citycount.csv").write_bytes(b"carpark_id;name;last_update\n" + counts + b"\n")
    (tmp_path / "camguard.jsonl").write_bytes(camera + b"\n")
    files = vendor_files([tmp_path], registry, None)
    payloads = list(replay_payloads(files, registry))  # naive and aware times never meet
    assert len(payloads) == 3
    assert [p.deliver_at for p in payloads] == sorted(p.deliver_at for p in payloads)
    assert EARLIEST not in [p.deliver_at for p in payloads]
    parsed = list(parsed_payloads(files, registry))
    [header] = [item for item in parsed if not item.result.ok]
    assert "rows are comma-separated" in header.result.error
    [reading] = [item for item in parsed if item.payload.vendor == "citycount" and item.result.ok]
    assert parsed.index(header) == parsed.index(reading) + 1  # right after its file's first
    assert header.payload.deliver_at == header.feed_time == reading.result.events[0].ts


def test_a_dead_letter_s_place_is_the_newest_event_of_its_file_before_it(tmp_path, monkeypatch):
    registry = PluginRegistry.discover()
    feed = tmp_path / "citycount.csv"
    rows = [f"FAC-003,Riverside,2026-11-20 08:{m:02d}:00,{400 + m},600,open" for m in (5, 20, 10)]
    feed.write_text("\n".join(["bad line 1", rows[0], rows[1], "bad line 2", rows[2], "bad 3"]))
    parsed = list(parsed_payloads([("citycount", feed)], registry))
    times = [item.result.events[0].ts for item in parsed if item.result.ok]
    assert [item.payload.data[:3] for item in parsed] == [
        b"FAC", b"bad", b"FAC", b"bad", b"FAC", b"bad"
    ]  # fmt: skip
    assert [item.feed_time for item in parsed if not item.result.ok] == [
        times[0], times[1], times[1]  # the newest before it, not the last (08:10 < 08:20)
    ]  # fmt: skip
    # more lines without events than a file's opening may hold: they go first, in order
    monkeypatch.setattr(replay, "LEADING_LINES", 2)
    feed.write_text("\n".join(["bad line 1", "bad line 2", "bad line 3", rows[0]]))
    parsed = list(parsed_payloads([("citycount", feed)], registry))
    assert [item.payload.data for item in parsed[:3]] == [
        b"bad line 1",
        b"bad line 2",
        b"bad line 3",
    ]
    assert [(i.payload.deliver_at, i.feed_time) for i in parsed[:3]] == [(EARLIEST, None)] * 3
