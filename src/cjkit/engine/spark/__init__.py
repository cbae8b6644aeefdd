"""The Spark adapter: the local Polars phase-1 code run per unit-hash bucket on Spark.

Only glue lives here (pyspark is imported lazily, inside the functions): the session settings
(:mod:`.session`), the Arrow/Spark schema mapping (:mod:`.schema`) and the bucketed
``applyInArrow`` calls (:mod:`.buckets`). The funnel and retention rules stay in
:mod:`cjkit.engine.funnel.journeys` and :mod:`cjkit.engine.cohorts.retention`.
"""
