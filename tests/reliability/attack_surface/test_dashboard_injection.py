"""SQL injection through every filter of the dashboards' queries (issue 9, part 5d).

Every query the pages run (`dashboard_queries`) is run by `dashboards.data.Marts` over marts
published from a real worker's lake, with hostile values in each of its parameters. A text
value must behave as a literal that matches nothing (the same rows as an unknown facility),
a date that is not a date must be refused as a value (a conversion error, never a parse
error of the SQL), and what comes from the URL goes through the filters' validation.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboards.data import Marts
from dashboards.filters import Filters, date_bounds, facility_choices, initial_filters
from tests.reliability.attack_surface.dashboard_queries import dashboard_queries, parameters

pytestmark = pytest.mark.integration

QUERIES = dashboard_queries()
TEXT_PARAMETERS = ("facility", "severity", "state")
DATE_PARAMETERS = ("start", "end")
UNKNOWN = "NO-SUCH-VALUE-7"
INJECTIONS = (
    "x' OR 1=1 --",
    "FAC-001' --",
    "FAC-001'; DROP TABLE mart_alerts; --",
    "FAC-001' UNION SELECT * FROM mart_occupancy_daily --",
    '" OR ""="',
    "$facility",
    "%",
    "FAC-001\x00",
)


@pytest.fixture(scope="module")
def marts(published) -> Marts:
    """The marts published from the worker's lake."""
    return Marts(published.marts_dir)


@pytest.fixture(scope="module")
def baseline(marts) -> dict[str, object]:
    """Legitimate values of every parameter: a facility with data and the dates it covers."""
    facilities = facility_choices(marts)
    bounds = date_bounds(marts)
    assert facilities and bounds, "the published marts are empty"
    return {"facility": facilities[0], "start": bounds[0], "end": bounds[1]} | dict.fromkeys(
        ("severity", "state")
    )


def run(marts: Marts, sql: str, params: dict[str, object]):
    """The rows of a query for these parameters."""
    return marts.query(sql, params)


def refused_or_run(marts: Marts, sql: str, params: dict[str, object]):
    """The rows, or the error with which DuckDB refused to convert a parameter's value."""
    try:
        return run(marts, sql, params)
    except (duckdb.ConversionException, duckdb.InvalidInputException) as exc:
        return exc


def test_the_dashboards_queries_are_all_found():
    assert len(QUERIES) >= 15
    used = set().union(*(parameters(sql) for sql in QUERIES.values()))
    assert {"facility", "start", "end"} <= used
    assert used <= set(TEXT_PARAMETERS + DATE_PARAMETERS), f"a new parameter: {used}"


def test_the_facility_filter_matters(marts, baseline):
    """Without this, an injection that selects every row could not be told apart."""
    changed = [
        name
        for name, sql in QUERIES.items()
        if "facility" in parameters(sql)
        and not run(marts, sql, baseline | {"facility": None}).equals(
            run(marts, sql, baseline | {"facility": UNKNOWN})
        )
    ]
    assert len(changed) >= 5, changed


@pytest.mark.parametrize("name", [n for n, sql in QUERIES.items() if parameters(sql)])
def test_hostile_text_is_a_literal_that_matches_nothing(marts, baseline, name):
    sql = QUERIES[name]
    for parameter in sorted(parameters(sql) & set(TEXT_PARAMETERS)):
        nothing = run(marts, sql, baseline | {parameter: UNKNOWN})
        for value in INJECTIONS:
            given = run(marts, sql, baseline | {parameter: value})
            assert given.equals(nothing), f"{parameter}={value!r} changed the rows of {name}"


@pytest.mark.parametrize("name", [n for n, sql in QUERIES.items() if parameters(sql)])
def test_a_date_that_is_not_a_date_is_refused_as_a_value(marts, baseline, name):
    """DuckDB refuses to convert it (or never has to: no row left to compare), and never
    reads it as SQL: no parser error, no rows beyond those of an empty date range."""
    sql = QUERIES[name]
    no_dates = baseline | {"start": date.max, "end": date.min}
    for parameter in sorted(parameters(sql) & set(DATE_PARAMETERS)):
        for value in ("2026-11-16' OR 1=1 --", "' OR '1'='1", "1 OR 1=1", "now()"):
            given = refused_or_run(marts, sql, baseline | {parameter: value})
            if isinstance(given, duckdb.Error):
                assert "date" in str(given).lower(), given
            else:
                assert given.equals(run(marts, sql, no_dates)), f"{parameter}={value!r} {name}"


def test_hostile_url_values_pass_through_the_filters_validation(marts, baseline):
    """The URL query is untrusted: dates that are not dates are dropped, a facility is data."""
    query = {"facility": "x' OR 1=1 --", "start": "x' OR 1=1 --", "end": "1 OR 1=1"}
    filters = initial_filters(marts, query)
    assert filters.facility == query["facility"]
    assert (filters.start, filters.end) != (None, None)  # the defaults, not the values
    params = filters.params() | dict.fromkeys(("severity", "state"), query["facility"])
    for name, sql in QUERIES.items():
        nothing = run(marts, sql, params | dict.fromkeys(TEXT_PARAMETERS, UNKNOWN))
        assert run(marts, sql, params).equals(nothing), name
    with pytest.raises(ValueError, match="start"):
        Filters(start="2026-11-16' OR 1=1 --")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(n for n, s in QUERIES.items() if "facility" in parameters(s))),
    text=st.text(max_size=40),
)
def test_any_facility_text_matches_only_that_facility(marts, baseline, name, text):
    """Random text as the facility: no rows beyond those of a facility of that name."""
    sql = QUERIES[name]
    if text in facility_choices(marts):
        return
    given = run(marts, sql, baseline | {"facility": text})
    assert given.equals(run(marts, sql, baseline | {"facility": UNKNOWN})), repr(text)
