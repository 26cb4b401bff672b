"""Dagster orchestration of ParkFlow: assets over plugins, lake, dbt marts, serving, dashboards."""

import warnings

import dagster as dg

# observable source assets and pools are beta in Dagster 1.13; we use them knowingly
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
