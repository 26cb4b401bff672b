"""The Great Expectations runner and the markdown report, on small dataframes."""

from __future__ import annotations

import socket
import subprocess
import sys

import pandas as pd
import pytest

from orchestration.quality import gx, suites
from orchestration.quality.report import markdown_table, mask_plate


@pytest.fixture
def hours() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "subject_id": ["FAC-001", "FAC-001", "FAC-002", "FAC-002"],
            "capacity": [10, 10, 5, 5],
            "peak_occupied": [3, 12, 5, 1],
            "occupancy_rate": [0.2, 0.9, 1.4, None],
        },
        index=[10, 11, 12, 13],
    )


def test_validation_reports_each_expectation_and_the_failing_rows(hours):
    result = gx.validate(hours, "test.occupancy", suites.occupancy_in_range())
    assert not result.success
    by_type = {r.expectation: r for r in result.results}
    rate = by_type["expect_column_values_to_be_between"]
    assert (rate.success, rate.column, rate.unexpected_count) == (False, "occupancy_rate", 1)
    assert rate.unexpected_index == [12]
    assert rate.element_count == 4
    peak = by_type["expect_column_pair_values_a_to_be_greater_than_b"]
    assert (peak.success, peak.unexpected_count, peak.unexpected_index) == (False, 1, [11])
    assert list(result.unexpected_rows.index) == [12, 11]
    assert result.unexpected_count == 2
    assert [r.label for r in result.failed] == [
        "expect_column_values_to_be_between(occupancy_rate)",
        "expect_column_pair_values_a_to_be_greater_than_b",
    ]


def test_passing_suite_and_context_reuse(hours):
    first = gx.context()
    ok = gx.validate(hours.iloc[:1], "test.occupancy", suites.occupancy_in_range())
    assert ok.success
    assert ok.unexpected_rows.empty
    # the same suite name with other expectations replaces the suite
    rows = gx.validate(hours, "test.occupancy", suites.no_rows())
    assert not rows.success
    assert rows.results[0].observed_value == 4
    assert gx.context() is first


def test_an_expectation_that_cannot_run_fails_with_its_error():
    result = gx.validate(pd.DataFrame({"x": [1]}), "test.missing", suites.not_negative(["nope"]))
    assert not result.success
    assert "does not exist" in result.results[0].exception


def test_sample_is_bounded():
    df = pd.DataFrame({"plate": [f"AB{i:04d}C" for i in range(100)]})
    result = gx.validate(df, "test.plates", suites.plates_hashed(["plate"]), sample_size=5)
    assert result.results[0].unexpected_count == 100
    assert len(result.unexpected_rows) == 5


@pytest.mark.parametrize(
    ("value", "clear"),
    [
        ("AB123C", True),
        ("1ABC23", True),
        ("0123456789ABCDEF0123", False),
        ("FAC-001", False),
        ("CREDIT_CARD", False),
        ("EUR", False),
        ("2026", False),
        ("baynode", False),
    ],
)
def test_clear_plate_pattern(value, clear):
    df = pd.DataFrame({"value": [value]})
    assert gx.validate(df, "test.clear", suites.no_clear_plates("value")).success is not clear


def test_validation_makes_no_network_call(hours, monkeypatch):
    gx.context()  # the import and the context exist already in a code server

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert not gx.validate(hours, "test.offline", suites.occupancy_in_range()).success


def test_importing_the_checks_does_not_import_great_expectations():
    code = (
        "import sys, orchestration.defs.quality, orchestration.quality.checks; "
        "sys.exit('great_expectations' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_markdown_table():
    df = pd.DataFrame(
        {
            "id": ["a|b", "c"],
            "rate": [1.23456, float("nan")],
            "ts": pd.to_datetime(["2026-03-02 05:00", None], utc=True),
        }
    )
    lines = markdown_table(df).splitlines()
    assert lines[0] == "| id | rate | ts |"
    assert lines[2] == "| a\\|b | 1.235 | 2026-03-02 05:00:00+00:00 |"
    assert lines[3] == "| c |  |  |"
    assert "2 more rows" in markdown_table(pd.DataFrame({"x": range(22)}))
    assert markdown_table(df.iloc[:0]) == "_no rows_"


def test_mask_plate():
    assert mask_plate("AB123C") == "AB****"
    assert mask_plate(None) is None
