"""Plain-Python streaming rules (no Faust): shared by the agents and by batch replay."""
