"""Every stage of a model in one pass: the hub plans and assembles, each stage kind in
:mod:`.kinds` adds its own per-unit values, queries and summary."""
