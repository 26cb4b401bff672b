"""The quality check of docs/analysts.md's example works as the guide says."""

import re
from pathlib import Path

import duckdb

from orchestration.quality import checks
from orchestration.quality.connection import read_only

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "analysts.md"
BLOCK = re.compile(r"<!-- check: orchestration/quality/checks.py -->\n```python\n(.*?)\n```", re.S)


def guide_check():
    """The guide's check function, defined as if it were in `checks.py`."""
    (code,) = BLOCK.findall(GUIDE.read_text())
    namespace = dict(vars(checks))
    exec(code, namespace)
    return namespace["compliance_in_range"]


def test_it_passes_on_the_clean_warehouse(quality_warehouse):
    with read_only(str(quality_warehouse)) as con:
        outcome = guide_check()(con)
    assert outcome.passed, outcome.description
    assert outcome.metadata["rows_checked"] > 0


def test_it_fails_on_a_bad_row_and_names_it():
    con = duckdb.connect()
    con.execute(
        "create table mart_revenue_daily as select * from (values"
        " ('FAC-001', date '2026-03-02', true, 0.9), ('FAC-002', date '2026-03-02', true, 1.5))"
        " t(facility_id, local_date, is_total, payment_compliance)"
    )
    outcome = guide_check()(con)
    assert not outcome.passed and outcome.severity == "WARN"
    assert "FAC-002" in outcome.metadata["failing_rows"]
    assert "FAC-001" not in outcome.metadata["failing_rows"]
