"""Compatibility: the names that lived here before the split, from their new modules.

New code imports from :mod:`cjkit.api.read`, :mod:`cjkit.api.funnel`, :mod:`cjkit.api.maps`
and :mod:`cjkit.api.inspect` (or from :mod:`cjkit.api`).
"""

from __future__ import annotations

from cjkit.api.funnel import (
    _EXCLUDE_RANGE,
    FunnelOptions,
    FunnelRun,
    _attribution,
    _check_columns,
    _exclusions,
    _steps_from_model,
    _units_table,
    funnel,
    funnel_spec,
)
from cjkit.api.inspect import (
    _dtype_name,
    inspect,
)
from cjkit.api.maps import (
    _data_problems,
    model_show,
    models_list,
    validate,
)
from cjkit.api.read import (
    Materialize,
    ReadOptions,
    collect_checked,
    load_model,
    read_errors,
    read_events,
)

__all__ = [
    "_EXCLUDE_RANGE",
    "FunnelOptions",
    "FunnelRun",
    "Materialize",
    "ReadOptions",
    "_attribution",
    "_check_columns",
    "_data_problems",
    "_dtype_name",
    "_exclusions",
    "_steps_from_model",
    "_units_table",
    "collect_checked",
    "funnel",
    "funnel_spec",
    "inspect",
    "load_model",
    "model_show",
    "models_list",
    "read_errors",
    "read_events",
    "validate",
]
