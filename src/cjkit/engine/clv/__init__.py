"""Customer value ahead: the per-unit RFM summary (phase 1, Polars), then BG/NBD for repeat
purchases, Gamma-Gamma for order value, CLV and RFM segments (phase 2, numpy and scipy)."""
