"""Every stage of a model in one pass: :mod:`.plan` resolves the stages, :mod:`.query` builds
the phase-1 queries, :mod:`.summary` turns the collected tables into stage results (phase 2);
each stage kind in :mod:`.kinds` adds its own per-unit values, queries and summary."""
