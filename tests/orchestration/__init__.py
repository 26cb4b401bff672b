"""Tests of the Dagster orchestration."""
