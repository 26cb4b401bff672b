"""Tests of the Great Expectations quality checks and their Dagster wiring."""
