"""Phase-2 views for ``cjkit report`` computed from tables the metrics run already holds."""
