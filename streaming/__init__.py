"""Faust streaming app: normalisation, session matching, device health, occupancy, lake sink."""
