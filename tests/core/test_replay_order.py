"""Vendor files in event-time order: header lines and unparsable first lines go first."""

from pathlib import Path

import orjson

from parkflow.registry import PluginRegistry
from parkflow.replay import EARLIEST, parsed_payloads, replay_payloads, vendor_files

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def test_files_that_open_with_a_header_line_merge_with_the_others(tmp_path):
    registry = PluginRegistry.discover()
    counts = (PLUGINS / "citycount" / "samples" / "single_reading.csv").read_bytes().strip()
    camera = orjson.dumps(
        orjson.loads((PLUGINS / "camguard" / "samples" / "entry_single.json").read_bytes())
    )
    (tmp_path / "citycount.csv").write_bytes(
        b"carpark_id,name,last_update,occupied,capacity,state\n" + counts + b"\n"
    )
    (tmp_path / "camguard.jsonl").write_bytes(camera + b"\n")
    files = vendor_files([tmp_path], registry, None)
    payloads = list(replay_payloads(files, registry))  # naive and aware times never meet
    assert len(payloads) == 3
    assert payloads[0].deliver_at == EARLIEST and payloads[0].corrupted
    assert [p.deliver_at for p in payloads[1:]] == sorted(p.deliver_at for p in payloads[1:])
    parsed = list(parsed_payloads(files, registry))
    assert parsed[0].result.error == "payload has a header row but no readings"
    assert all(item.result.ok for item in parsed[1:])
