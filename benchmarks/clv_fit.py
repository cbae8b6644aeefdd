"""Time cjkit's BG/NBD and Gamma-Gamma fits on simulated customers, and check they recover the
parameters the data were drawn from.

    python benchmarks/clv_fit.py --units 5000000

Customers are drawn from the BG/NBD and Gamma-Gamma models themselves (vectorised numpy, no
loop over customers): a purchase rate λ ~ Gamma(r, 1/α), a dropout probability p ~ Beta(a, b),
an observation length T uniform on 1..78 weeks measured in whole days; the unit is alive until
right after its K-th repeat purchase, K ~ Geometric(p); x = min(Poisson(λT), K) and t_x is the
x-th of the Poisson process's arrival times (a Beta order statistic). The fit sees (x, t_x, T)
exactly as ``cjkit clv`` builds them (t_x and T rounded to days, as purchase days are), and runs
the same code ``cjkit clv`` runs (``cjkit.engine.clv.predict``). Prints one JSON line: each
fit's wall and CPU time (``time.process_time``: the machine may be shared) with the 1-minute
load average before the fits, the distinct summaries fitted, and the true and fitted parameters.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import polars as pl

from cjkit.engine.clv.predict import fit_purchases, fit_spend

TRUE = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
SPEND = {"p": 6.25, "q": 3.74, "v": 15.44}


def simulate(n: int, seed: int) -> pl.DataFrame:
    """Return n simulated customers' RFM summaries (frequency, recency, T in weeks, value)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(TRUE["r"], 1 / TRUE["alpha"], n)
    p = rng.beta(TRUE["a"], TRUE["b"], n)
    days = rng.integers(7, 547, n)
    T = days / 7
    k = rng.geometric(p)
    arrivals = rng.poisson(lam * T)
    x = np.minimum(arrivals, k)
    frac = np.where(x > 0, rng.beta(np.maximum(x, 1), np.maximum(arrivals - x + 1, 1)), 0.0)
    t_x = np.floor(frac * days) / 7
    nu = rng.gamma(SPEND["q"], 1 / SPEND["v"], n)
    mean_value = np.where(
        x > 0, rng.gamma(SPEND["p"] * np.maximum(x, 1), 1 / nu) / np.maximum(x, 1), 0.0
    )
    return pl.DataFrame(
        {"frequency": x.astype(np.int64), "recency": t_x, "T": T, "monetary_value": mean_value}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    summary = simulate(args.units, args.seed)
    load = os.getloadavg()[0]
    start, cpu = time.perf_counter(), time.process_time()
    purchases = fit_purchases(summary)
    bg_seconds, bg_cpu = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    spend, spend_units, _ = fit_spend(summary)
    gg_seconds, gg_cpu = time.perf_counter() - start, time.process_time() - cpu
    distinct = summary.select("frequency", "recency", "T").unique().height
    print(
        json.dumps(
            {
                "units": args.units,
                "distinct_summaries": distinct,
                "bg_nbd_fit_s": round(bg_seconds, 3),
                "bg_nbd_fit_cpu_s": round(bg_cpu, 3),
                "bg_nbd_iterations": purchases.iterations,
                "gamma_gamma_fit_s": round(gg_seconds, 3),
                "gamma_gamma_fit_cpu_s": round(gg_cpu, 3),
                "gamma_gamma_iterations": spend.iterations if spend else None,
                "load_average_1m": round(load, 2),
                "gamma_gamma_units": spend_units,
                "true": {**TRUE, **SPEND},
                "fitted": {
                    **{k: round(v, 4) for k, v in purchases.params.items()},
                    **({k: round(v, 4) for k, v in spend.params.items()} if spend else {}),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
