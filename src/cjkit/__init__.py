"""cjkit: customer-journey funnel analytics from event logs.

The public library: every analysis takes events (paths, globs, folders, or a Polars
``LazyFrame``/``DataFrame``) and an options object, and returns a report whose ``to_dict()``
is the CLI's JSON document and whose ``to_rows()`` are its tidy rows::

    import cjkit
    run = cjkit.funnel("events.parquet", cjkit.FunnelOptions(steps=("visit", "purchase")))
    report = cjkit.metrics(frame, cjkit.MetricsOptions(model="aarrr"))

The names load on first use (module ``__getattr__``), so ``import cjkit`` and ``cjkit
--version`` do not import Polars. See docs/python-api.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name -> the module that defines it.
_API = "cjkit.api"
_REPORT = "cjkit.report"
_EXPORTS = {
    **dict.fromkeys(
        (
            "load_model",
            "inspect",
            "validate",
            "models_list",
            "model_show",
            "funnel",
            "retention",
            "lifecycle",
            "stickiness",
            "metrics",
            "check",
            "ReadOptions",
            "FunnelOptions",
            "FunnelRun",
            "RetentionOptions",
            "ActivityOptions",
            "MetricsOptions",
            "CheckOptions",
        ),
        _API,
    ),
    **dict.fromkeys(
        (
            "Report",
            "InspectReport",
            "ValidateReport",
            "ModelsReport",
            "ModelReport",
            "FunnelReport",
            "RetentionReport",
            "LifecycleReport",
            "StickinessReport",
            "MetricsReport",
            "CheckReport",
        ),
        _REPORT,
    ),
    "CjkitError": "cjkit.errors",
}

__all__ = [
    "ActivityOptions",
    "CheckOptions",
    "CheckReport",
    "CjkitError",
    "FunnelOptions",
    "FunnelReport",
    "FunnelRun",
    "InspectReport",
    "LifecycleReport",
    "MetricsOptions",
    "MetricsReport",
    "ModelReport",
    "ModelsReport",
    "ReadOptions",
    "Report",
    "RetentionOptions",
    "RetentionReport",
    "StickinessReport",
    "ValidateReport",
    "__version__",
    "check",
    "funnel",
    "inspect",
    "lifecycle",
    "load_model",
    "metrics",
    "model_show",
    "models_list",
    "retention",
    "stickiness",
    "validate",
]

if TYPE_CHECKING:  # for type checkers and editors; at run time __getattr__ loads them
    # (mypy counts ``cjkit.api.metrics``, the submodule, as a second ``metrics``.)
    from cjkit.api import (  # type: ignore[no-redef]
        ActivityOptions,
        CheckOptions,
        FunnelOptions,
        FunnelRun,
        MetricsOptions,
        ReadOptions,
        RetentionOptions,
        check,
        funnel,
        inspect,
        lifecycle,
        load_model,
        metrics,
        model_show,
        models_list,
        retention,
        stickiness,
        validate,
    )
    from cjkit.errors import CjkitError
    from cjkit.report import (
        CheckReport,
        FunnelReport,
        InspectReport,
        LifecycleReport,
        MetricsReport,
        ModelReport,
        ModelsReport,
        Report,
        RetentionReport,
        StickinessReport,
        ValidateReport,
    )


def __getattr__(name: str) -> Any:
    """Return a public name, importing its module on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cjkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
