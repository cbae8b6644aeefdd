"""The Polars engine: phase 1 (events → one row per unit) and phase 2 (aggregates)."""
