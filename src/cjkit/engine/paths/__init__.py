"""Paths: each unit's events as collapsed sequences (phase 1), then edges, nodes, top paths,
the step matrix and transitions (phase 2)."""
