"""Faust streaming app: normalisation, session matching, device health, live occupancy, lake sink."""
