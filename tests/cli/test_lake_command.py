"""`parkflow lake build | append`: a lake from simulated traffic without Kafka."""

from parkflow.lake import read_table


def test_build_writes_every_table_and_prints_the_counts(cli, tmp_path):
    data_dir = tmp_path / "data"
    result = cli(
        "lake", "build", "--days", "0.1", "--facilities", "2", "--seed", "3",
        "--start", "2026-11-02", "--data-dir", data_dir,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    events = read_table(data_dir, "events").num_rows
    assert f"{events:,}" in result.output
    for table in ("events", "sessions", "anomalies", "alerts", "deadletter"):
        assert table in result.output
    assert "pseudonymised" in result.output
    assert (data_dir / "secrets" / "plate_key").exists()  # the data dir's own key


def test_build_refuses_to_write_over_a_lake_unless_asked(cli, tmp_path):
    args = ["lake", "build", "--days", "0.05", "--facilities", "1", "--start", "2026-11-02"]
    assert cli(*args).exit_code == 0
    refused = cli(*args)
    assert refused.exit_code == 1
    assert "--replace" in refused.output
    assert cli(*args, "--replace").exit_code == 0


def test_append_adds_the_next_hours(cli, tmp_path):
    data_dir = tmp_path / "data"
    base = ["--data-dir", data_dir]
    cli("lake", "build", "--days", "0.05", "--facilities", "1", "--start", "2026-11-02", *base)
    before = read_table(data_dir, "events").num_rows
    result = cli("lake", "append", "--hours", "1", *base)
    assert result.exit_code == 0, result.output
    assert read_table(data_dir, "events").num_rows > before
    assert "2026-11-02 02:12" in result.output  # 0.05 day + 1 h


def test_append_without_a_built_lake_says_so(cli, tmp_path):
    result = cli("lake", "append", "--data-dir", tmp_path / "nothing")
    assert result.exit_code == 1
    assert "no lake built" in result.output


def test_a_period_in_the_future_is_refused(cli):
    result = cli("lake", "build", "--days", "2", "--start", "2999-01-01")
    assert result.exit_code == 1
    assert "future" in result.output
