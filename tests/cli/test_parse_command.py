"""`parkflow parse`: vendor files through the plugins, with events and dead letters written out."""

import json

import orjson


def simulate(cli, out, *extra):
    result = cli(
        "simulate", "--start", "2026-11-10", "--days", "0.25", "--seed", "4", "--out", out, *extra
    )
    assert result.exit_code == 0, result.output


def test_parse_reports_per_vendor_and_writes_pseudonymised_events(cli, tmp_path):
    simulate(cli, tmp_path / "sim", "--clean")
    events_out = tmp_path / "events.jsonl"
    result = cli("parse", tmp_path / "sim", "--events-out", events_out, "--strict")
    assert result.exit_code == 0, result.output
    for vendor in ("camguard", "paymaster", "baynode", "voltwatch", "citycount"):
        assert vendor in result.output
    events = [orjson.loads(line) for line in events_out.read_bytes().splitlines()]
    plates = {e["plate"] for e in events if e.get("plate")}
    assert plates and all(len(p) == 20 for p in plates)  # hashed, never the clear plate
    clear = (tmp_path / "sim" / "camguard.jsonl").read_text()
    assert not any(p in clear for p in plates)


def test_parse_keeps_rejected_payloads_as_dead_letters_with_reasons(cli, tmp_path):
    simulate(cli, tmp_path / "sim", "--garbage-rate", "0.2")
    dead_out = tmp_path / "dead.jsonl"
    result = cli("parse", tmp_path / "sim", "--dead-letters-out", dead_out, "--strict")
    assert result.exit_code == 1
    assert "rejected payloads, most common reasons" in result.output
    letters = [json.loads(line) for line in dead_out.read_text().splitlines()]
    manifest = json.loads((tmp_path / "sim" / "manifest.json").read_text())
    assert len(letters) == sum(v["corrupted"] for v in manifest["vendors"].values())
    assert all(letter["reason"] and letter["payload_b64"] for letter in letters)


def test_parse_of_a_file_of_an_unknown_vendor_says_so(cli, tmp_path):
    (tmp_path / "acme.jsonl").write_text("{}\n")
    result = cli("parse", tmp_path / "acme.jsonl")
    assert result.exit_code == 1
    assert "unknown vendor plugin 'acme'" in result.output
    assert "Traceback" not in result.output
