"""Dagster code location: assets, checks, schedules, sensors and resources under defs/."""
