"""The funnel: phase 1 (:mod:`.journeys`, one row per unit with its step times) and phase 2
(:mod:`.summary`, counts, rates and times per step and segment)."""
