"""Dagster definitions, one sub-package per area (sources, lake, dbt, quality, serving)."""
