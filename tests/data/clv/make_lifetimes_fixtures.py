"""Record lifetimes 0.11.3's numbers on the CDNOW sample, as fixtures for cjkit's CLV tests.

Provenance: run once, in a throwaway virtual environment that is not part of cjkit::

    python3.11 -m venv /tmp/ltvenv
    /tmp/ltvenv/bin/pip install lifetimes==0.11.3 'pandas<2' 'numpy<2' 'scipy<1.13'
    /tmp/ltvenv/bin/python tests/data/clv/make_lifetimes_fixtures.py

It reads ``examples/cdnow/CDNOW_sample.txt`` (2,357 customers), builds lifetimes' RFM summary
with daily merging and weeks as the time unit (``freq="D", freq_multiplier=7``: the published
CDNOW convention), calibration up to 1997-09-30, fits BG/NBD and Gamma-Gamma with penalizer 0,
and writes ``lifetimes_cdnow_sample.json`` beside this file. cjkit never imports lifetimes.
"""

from __future__ import annotations

import json
from pathlib import Path

import lifetimes
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import calibration_and_holdout_data, summary_data_from_transaction_data

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parents[2] / "examples" / "cdnow" / "CDNOW_sample.txt"

raw = pd.read_csv(
    SAMPLE,
    sep=r"\s+",
    header=None,
    names=["master_id", "sample_id", "date", "cds", "amount"],
    dtype={"master_id": str, "sample_id": str, "date": str},
)
raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
calibration = raw[raw["date"] <= "1997-09-30"]
summary = summary_data_from_transaction_data(
    calibration,
    "master_id",
    "date",
    monetary_value_col="amount",
    observation_period_end="1997-09-30",
    freq="D",
    freq_multiplier=7,
)
bgf = BetaGeoFitter(penalizer_coef=0.0).fit(summary["frequency"], summary["recency"], summary["T"])
repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
ggf = GammaGammaFitter(penalizer_coef=0.0).fit(repeat["frequency"], repeat["monetary_value"])
summary["expected_purchases_39"] = bgf.conditional_expected_number_of_purchases_up_to_time(
    39, summary["frequency"], summary["recency"], summary["T"]
)
summary["prob_alive"] = bgf.conditional_probability_alive(
    summary["frequency"], summary["recency"], summary["T"]
)
summary["expected_avg_value"] = ggf.conditional_expected_average_profit(
    summary["frequency"], summary["monetary_value"]
)
summary["clv_12m"] = ggf.customer_lifetime_value(
    bgf,
    summary["frequency"],
    summary["recency"],
    summary["T"],
    summary["monetary_value"],
    time=12,
    discount_rate=0.01,
    freq="W",
)
# A holdout split as lifetimes makes it: calibration to 1997-09-30, holdout to 1998-06-30.
holdout = calibration_and_holdout_data(
    raw,
    "master_id",
    "date",
    calibration_period_end="1997-09-30",
    observation_period_end="1998-06-30",
    freq="D",
    freq_multiplier=7,
)
ids = [*sorted(summary.index)[:25], "00004", "01103", "23537"]
out = {
    "provenance": (
        f"lifetimes {lifetimes.__version__}, pandas {pd.__version__}; "
        "tests/data/clv/make_lifetimes_fixtures.py on examples/cdnow/CDNOW_sample.txt"
    ),
    "observation_end": "1997-09-30",
    "units": len(summary),
    "repeat_buyers": len(repeat),
    "bg_nbd": {k: float(v) for k, v in bgf.params_.items()},
    "bg_nbd_log_likelihood": float(-bgf._negative_log_likelihood_ * len(summary))
    if hasattr(bgf, "_negative_log_likelihood_")
    else None,
    "gamma_gamma": {k: float(v) for k, v in ggf.params_.items()},
    "holdout_total_actual": float(holdout["frequency_holdout"].sum()),
    "holdout_duration": float(holdout["duration_holdout"].iloc[0]),
    "units_detail": {
        i: {
            c: float(summary.loc[i, c])
            for c in [
                "frequency",
                "recency",
                "T",
                "monetary_value",
                "expected_purchases_39",
                "prob_alive",
                "expected_avg_value",
                "clv_12m",
            ]
        }
        for i in ids
        if i in summary.index
    },
}
(HERE / "lifetimes_cdnow_sample.json").write_text(json.dumps(out, indent=2, sort_keys=True) + "\n")
print(json.dumps({k: out[k] for k in ("bg_nbd", "gamma_gamma", "units", "repeat_buyers")}))
