"""Faust agents: thin shells that feed the plain rules in `streaming.rules` and land rows."""
