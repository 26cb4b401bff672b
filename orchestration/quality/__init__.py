"""Data-quality checks: Great Expectations suites over dataframes read from the warehouse.

`checks` holds the checks as plain functions (no Dagster); `orchestration/defs/quality.py`
turns them into asset checks.
"""
