"""Statistics of a sweep: intervals per design point, paired effects, sensitivity indices.

Replicates share seeds across design points (common random numbers), so an effect against
the baseline is computed per seed, as the mean of paired differences: the luck both runs share
cancels, and the interval is that of the differences, not of two noisy means.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from abm.experiment.store import Status

LEVEL = 0.95


def interval(values) -> tuple[int, float, float, float]:
    """(n, mean, low, high): the mean and its 95% t-interval; NaN values are left out."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return 0, math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n == 1:
        return 1, mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + LEVEL / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return n, mean, mean - half, mean + half


def numeric_metrics(results: pd.DataFrame, keys: list[str]) -> list[str]:
    """Summary figures in a results table (numeric columns that are not settings or ids)."""
    skip = {"point", "replicate", "seed", "baseline_point", *keys}
    return [c for c in results.columns
            if c not in skip and pd.api.types.is_numeric_dtype(results[c])
            and not pd.api.types.is_bool_dtype(results[c])]


def ok_runs(results: pd.DataFrame) -> pd.DataFrame:
    return results[results["status"] == Status.OK]


def point_table(results: pd.DataFrame, keys: list[str], metrics: list[str]) -> pd.DataFrame:
    """Per design point: its settings, runs, and mean with 95% interval of each metric."""
    ok = ok_runs(results)
    rows = []
    for point, runs in results.groupby("point", sort=True):
        first = runs.iloc[0]
        row = {"point": point, "label": first["label"], **{k: first[k] for k in keys},
               "runs": len(runs), "failed": int((runs["status"] != Status.OK).sum())}
        good = ok[ok["point"] == point]
        for m in metrics:
            _, mean, lo, hi = interval(good[m])
            row.update({f"{m}_mean": mean, f"{m}_lo": lo, f"{m}_hi": hi})
        rows.append(row)
    return pd.DataFrame(rows)


def paired_effects(results: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Effect of each design point against its baseline point, from same-seed differences.

    One row per (point, metric): pairs used, mean difference with its 95% interval, the
    baseline's mean over the same seeds, and the difference relative to it.
    """
    ok = ok_runs(results)
    by_point = {p: g.set_index("seed") for p, g in ok.groupby("point")}
    labels = results.groupby("point")["label"].first()
    refs = results.groupby("point")["baseline_point"].first()
    rows = []
    for point, ref in refs.items():
        if pd.isna(ref) or int(ref) == point:
            continue
        ref = int(ref)
        here = by_point.get(point, pd.DataFrame())
        there = by_point.get(ref, pd.DataFrame())
        seeds = here.index.intersection(there.index) if len(here) and len(there) else []
        for m in metrics:
            a = here.loc[seeds, m].astype(float).to_numpy() if len(seeds) else np.array([])
            b = there.loc[seeds, m].astype(float).to_numpy() if len(seeds) else np.array([])
            both = np.isfinite(a) & np.isfinite(b)
            n, mean, lo, hi = interval(a[both] - b[both])
            base = float(b[both].mean()) if n else math.nan
            rows.append({"point": point, "label": labels[point], "baseline_point": ref,
                         "baseline_label": labels[ref], "metric": m, "pairs": n,
                         "effect": mean, "effect_lo": lo, "effect_hi": hi,
                         "baseline_mean": base,
                         "relative": mean / base if n and base != 0 else math.nan})
    return pd.DataFrame(rows, columns=["point", "label", "baseline_point", "baseline_label",
                                       "metric", "pairs", "effect", "effect_lo", "effect_hi",
                                       "baseline_mean", "relative"])


def sensitivity(design, design_frame: pd.DataFrame, results: pd.DataFrame,
                metrics: list[str], seed: int) -> tuple[pd.DataFrame, list[str]]:
    """Sobol or Morris indices (SALib analyze) of each metric's replicate mean per point.

    Returns the indices (one row per metric and parameter) and notes on metrics left out.
    """
    from SALib.analyze import morris, sobol

    problem = design.problem()
    means = ok_runs(results).groupby("point")[metrics].mean()
    means = means.reindex(design_frame["point"])
    samples = design_frame[[f"sample:{k}" for k in problem["names"]]].to_numpy(dtype=float)
    rows, notes = [], []
    for m in metrics:
        y = means[m].to_numpy(dtype=float)
        if not np.isfinite(y).all():
            notes.append(f"{m}: left out (some design points have no value)")
            continue
        if np.ptp(y) == 0:
            notes.append(f"{m}: left out (the same at every design point)")
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            if design.kind == "sobol":
                res = sobol.analyze(problem, y, calc_second_order=design.second_order,
                                    seed=seed)
                names = ("S1", "S1_conf", "ST", "ST_conf")
            else:
                res = morris.analyze(problem, samples, y, num_levels=design.levels, seed=seed)
                names = ("mu", "mu_star", "mu_star_conf", "sigma")
        for i, param in enumerate(problem["names"]):
            rows.append({"metric": m, "parameter": param,
                         **{n: float(np.asarray(res[n])[i]) for n in names}})
    return pd.DataFrame(rows), notes
