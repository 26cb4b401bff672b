"""A small runner around Great Expectations 1.x: validate a dataframe against a suite.

There is no maintained Dagster integration for GX 1.x, and GX has no DuckDB datasource, so
the checks read a dataframe from the warehouse and validate it here. One ephemeral context
(in memory, nothing written to disk, analytics and progress bars off) is created on first use
and reused by every validation of the process. GX is imported lazily: the import takes
5-7 s, which a Dagster code server should not pay just to list the checks.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from great_expectations.data_context import AbstractDataContext
    from great_expectations.expectations import Expectation

#: Rows of a failing expectation kept as a sample (GX's `partial_unexpected_count`).
SAMPLE_SIZE = 20
_DATASOURCE = "parkflow_quality"
_lock = threading.Lock()
_context: AbstractDataContext | None = None


@dataclass(frozen=True)
class ExpectationResult:
    """The outcome of one expectation of a suite."""

    expectation: str  # GX type, e.g. "expect_column_values_to_be_between"
    column: str | None
    success: bool
    unexpected_count: int
    element_count: int | None
    observed_value: Any
    unexpected_index: list[Any]  # index labels of a sample of the failing rows
    exception: str | None = None

    @property
    def label(self) -> str:
        """A short name for people: the expectation and its column."""
        return f"{self.expectation}({self.column})" if self.column else self.expectation


@dataclass(frozen=True)
class Validation:
    """The outcome of a suite on one dataframe."""

    suite_name: str
    success: bool
    results: list[ExpectationResult]
    unexpected_rows: pd.DataFrame = field(repr=False)  # a sample of the failing rows

    @property
    def failed(self) -> list[ExpectationResult]:
        """The expectations that did not hold."""
        return [r for r in self.results if not r.success]

    @property
    def unexpected_count(self) -> int:
        """Failing values over every expectation (a row failing two counts twice)."""
        return sum(r.unexpected_count for r in self.results)


def context() -> AbstractDataContext:
    """The process's ephemeral GX context, created on first use."""
    global _context
    with _lock:
        if _context is None:
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig

            ctx = gx.get_context(mode="ephemeral")
            ctx.enable_analytics(False)
            ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
            ctx.data_sources.add_pandas(_DATASOURCE)
            _context = ctx
        return _context


def validate(
    df: pd.DataFrame,
    suite_name: str,
    expectations: Sequence[Expectation],
    *,
    sample_size: int = SAMPLE_SIZE,
) -> Validation:
    """Run `expectations` (a suite called `suite_name`) on `df`."""
    import great_expectations as gx

    ctx = context()
    with _lock:  # the context's stores are shared; GX is not documented as thread-safe
        source = ctx.data_sources.get(_DATASOURCE)
        if suite_name in source.get_asset_names():
            asset = source.get_asset(suite_name)
        else:
            asset = source.add_dataframe_asset(suite_name)
        if asset.batch_definitions:
            batch = asset.batch_definitions[0]
        else:
            batch = asset.add_batch_definition_whole_dataframe("whole_dataframe")
        suite = ctx.suites.add_or_update(
            gx.ExpectationSuite(name=suite_name, expectations=[e.copy() for e in expectations])
        )
        definition = ctx.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=suite_name, data=batch, suite=suite)
        )
        raw = definition.run(
            batch_parameters={"dataframe": df},
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": sample_size},
        )
    results = [_result(r) for r in raw.results]
    failing: list[Any] = []
    for result in results:
        failing.extend(i for i in result.unexpected_index if i not in failing)
    rows = df.loc[[i for i in failing if i in df.index][:sample_size]]
    return Validation(suite_name, bool(raw.success), results, rows)


def _result(raw: Any) -> ExpectationResult:
    config = raw.expectation_config
    result = raw.result or {}
    # exception_info is one {"raised_exception": ...} dict, or one such dict per metric
    info = raw.exception_info if isinstance(raw.exception_info, dict) else {}
    if info and "raised_exception" not in info:
        info = next((v for v in info.values() if v.get("raised_exception")), {})
    raised = info.get("raised_exception", False)
    unexpected = result.get("unexpected_count")
    return ExpectationResult(
        expectation=config.type,
        column=config.kwargs.get("column"),
        success=bool(raw.success),
        unexpected_count=int(unexpected) if unexpected is not None else int(not raw.success),
        element_count=result.get("element_count"),
        observed_value=result.get("observed_value"),
        unexpected_index=list(result.get("partial_unexpected_index_list") or []),
        exception=info.get("exception_message") if raised else None,
    )
