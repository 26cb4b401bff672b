"""Panel + hvplot dashboards for managers, reading published marts and the live API."""
