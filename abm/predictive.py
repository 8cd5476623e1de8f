"""`abm predict`: does the model, given half of a city's real crimes, predict the other half?

The real crimes are the 287 of GeoDa's Mesa, Arizona sample (libpysal ``geodanet/crimes.shp``,
BSD-3-Clause, PySAL Developers), on the same streets the model ships (abm/data/mesa_az.graphml).
For each of several random splits into halves, the training half becomes the places'
attractiveness (``city.attractiveness_points``, spread by the kernel of ``city.kernel_m``), the
model runs without cameras, and its crime map is scored against the test half:

- Spearman rank correlation per intersection between model crimes and test crimes;
- hit rate (share of test crimes at the model's top 5%, 10%, 20% of intersections) and the
  predictive accuracy index (PAI: hit rate over the share of places flagged) at 5% and 10%;
- the same scores for two baselines fitted to the same training half: a kernel density
  (scipy's gaussian_kde, Scott's rule) and the training crimes' own counts per intersection,
  and the ceiling, the training counts against the test counts (how alike two halves are).

Scores are given as the mean over splits with the 2.5-97.5% range over splits; the model's
difference from the density baseline is paired split by split. Real crimes are snapped to their
nearest intersection, each intersection standing for an equal share of the area.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from abm.config import ConfigError

BASE = "real-city"  # the shipped scenario on the Mesa streets
CRIME_CRS = "EPSG:26949"  # the shipped Mesa streets' CRS; the crimes are reprojected to it
FRACTIONS = (0.05, 0.10, 0.20)
PAI_FRACTIONS = (0.05, 0.10)
# Without cameras: the map of crime itself, not of where cameras deter it.
FIXED = ["cameras.count=0"]
ATTRIBUTION = ("Crimes and streets of Mesa, Arizona: GeoDa Center GeoDaNet sample data, shipped "
               "in libpysal (examples/geodanet), BSD-3-Clause, Copyright (c) 2007-, PySAL "
               "Developers")


def real_crimes() -> np.ndarray:
    """The Mesa crimes' positions (287, 2) in the shipped streets' metres (EPSG:26949)."""
    try:
        import geopandas as gpd
        from libpysal import examples
    except ImportError:
        from abm.streetfiles import GEO_EXTRA

        raise ConfigError(f"abm predict: needs libpysal and geopandas ({GEO_EXTRA})") from None
    crimes = gpd.read_file(examples.get_path("crimes.shp")).to_crs(CRIME_CRS)
    return np.column_stack([crimes.geometry.x, crimes.geometry.y])


def split_seeds(seed: int, splits: int) -> list[int]:
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(splits)]


def score(name: str, prediction: np.ndarray, test: np.ndarray) -> dict:
    from scipy.stats import spearmanr

    from abm import spatial

    row = {"predictor": name, "spearman": float(spearmanr(prediction, test).statistic)}
    for f in FRACTIONS:
        row[f"hit_{round(f * 100)}pct"] = spatial.hit_rate(prediction, test, f)
    for f in PAI_FRACTIONS:
        row[f"pai_{round(f * 100)}pct"] = spatial.pai(prediction, test, f)
    return row


def run(base: Path, out: Path, splits: int, replicates: int, days: float, seed: int,
        backend, extra: list[str], echo=print, progress: bool = False) -> pd.DataFrame:
    """Every split: training points file, model runs (on ``backend``), scores of model and
    baselines."""
    from abm import spatial
    from abm.config import load
    from abm.experiment.backends import Task
    from abm.experiment.runner import run_all
    from abm.measures import CrimesByPlace
    from abm.model import city_seed
    from abm.outputs import atomic_write
    from abm.streets import build_city

    config = load(base, [*FIXED, *extra])
    city = build_city(config.city, city_seed(config))
    crimes = real_crimes()
    _, nearest = city.kdtree.query(crimes)
    snapped = np.bincount(nearest, minlength=city.n)
    echo(f"{len(crimes)} real crimes on {city.n} intersections; {splits} splits x "
         f"{replicates} runs of {days:g} days")
    points = out / "points"
    points.mkdir(parents=True, exist_ok=True)
    tasks, plans = [], []
    for s, split_seed in enumerate(split_seeds(seed, splits)):
        order = np.random.default_rng(split_seed).permutation(len(crimes))
        train, test = order[: len(crimes) // 2], order[len(crimes) // 2:]
        path = points / f"split-{s:02d}-train.csv"
        frame = pd.DataFrame(crimes[train], columns=["x", "y"])
        atomic_write(path, lambda p, f=frame: f.to_csv(p, index=False))
        for r in split_seeds(split_seed, replicates):
            trained = config.changed({"city.attractiveness_points": str(path.resolve()),
                                      "run.days": days, "run.seed": r})
            tasks.append(Task(f"split {s} seed {r}", trained.model_dump(mode="json"),
                              (CrimesByPlace(),)))
        plans.append((s, train, test))
    started = time.perf_counter()
    outcomes = run_all(tasks, backend, "predict", progress)
    counts = [outcome["measures"][CrimesByPlace().name] for outcome in outcomes]
    echo(f"{len(tasks)} runs in {time.perf_counter() - started:.0f} s")
    degree = np.array([city.graph.degree(v) for v in range(city.n)], dtype=float)
    rows = []
    for s, train, test in plans:
        model = np.sum(counts[s * replicates:(s + 1) * replicates], axis=0)
        test_counts = np.bincount(nearest[test], minlength=city.n)
        train_counts = np.bincount(nearest[train], minlength=city.n)
        density = spatial.kde(crimes[train], city.xy)
        for name, prediction in (("model", model), ("kde", density),
                                 ("training counts", train_counts), ("degree", degree)):
            rows.append({"split": s, **score(name, prediction, test_counts),
                         "model_crimes": int(model.sum()),
                         "model_top5_share": spatial.concentration(model, 0.05),
                         "test_top5_share": spatial.concentration(test_counts, 0.05)})
    table = pd.DataFrame(rows)
    table.attrs["snapped"] = snapped
    return table


MEASURES = {"spearman": "Spearman per intersection", "hit_5pct": "hit rate, top 5%",
            "hit_10pct": "hit rate, top 10%", "hit_20pct": "hit rate, top 20%",
            "pai_5pct": "PAI, top 5%", "pai_10pct": "PAI, top 10%"}


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and 2.5-97.5% range over splits per predictor; the model's paired difference
    from the density baseline and the share of splits where the model is at least as good."""
    rows = []
    model = table[table.predictor == "model"].set_index("split")
    kde = table[table.predictor == "kde"].set_index("split")
    for name, part in table.groupby("predictor", sort=False):
        for key in MEASURES:
            x = part[key].to_numpy(float)
            row = {"predictor": name, "measure": key, "mean": float(np.mean(x)),
                   "lo": float(np.quantile(x, 0.025)), "hi": float(np.quantile(x, 0.975))}
            if name == "model":
                d = (model[key] - kde[key]).to_numpy(float)
                row.update({"minus_kde": float(np.mean(d)), "minus_kde_lo":
                            float(np.quantile(d, 0.025)), "minus_kde_hi":
                            float(np.quantile(d, 0.975)), "splits_at_least_kde":
                            float(np.mean(d >= 0))})
            rows.append(row)
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame, summ: pd.DataFrame, meta: dict) -> str:
    order = list(dict.fromkeys(table["predictor"]))
    lines = ["| predictor | " + " | ".join(MEASURES.values()) + " |",
             "|---|" + "---|" * len(MEASURES)]
    for name in order:
        cells = []
        for key in MEASURES:
            r = summ[(summ.predictor == name) & (summ.measure == key)].iloc[0]
            cells.append(f"{r['mean']:.2f} ({r['lo']:.2f} to {r['hi']:.2f})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "| model minus kde | " + " | ".join(MEASURES.values()) + " |",
              "|---|" + "---|" * len(MEASURES)]
    cells = []
    for key in MEASURES:
        r = summ[(summ.predictor == "model") & (summ.measure == key)].iloc[0]
        cells.append(f"{r['minus_kde']:+.2f} ({r['minus_kde_lo']:+.2f} to "
                     f"{r['minus_kde_hi']:+.2f}); model >= kde in "
                     f"{r['splits_at_least_kde']:.0%} of splits")
    lines.append("| difference | " + " | ".join(cells) + " |")
    m = table[table.predictor == "model"]
    lines += ["", f"{meta['splits']} random splits into halves (seed {meta['seed']}), "
              f"{meta['replicates']} model runs of {meta['days']:g} days per split "
              f"({m['model_crimes'].mean():.0f} model crimes per split on average); mean "
              f"over splits and, in brackets, the 2.5-97.5% range over splits. Top-5% "
              f"concentration: model {m['model_top5_share'].mean():.2f}, test halves "
              f"{m['test_top5_share'].mean():.2f}. Settings: {meta['base']} with "
              f"{', '.join(meta['overrides'])}."]
    return "\n".join(lines) + "\n"


def cmd_predict(args: argparse.Namespace) -> int:
    from abm.config import load
    from abm.outputs import manifest, write_json, write_text

    for name in ("splits", "replicates"):
        value = getattr(args, name)
        if not 1 <= value <= 1000:
            raise ConfigError(f"--{name} {value}: must be between 1 and 1000")
    if not 0 < args.days <= 3650:
        raise ConfigError(f"--days {args.days}: must be above 0 and at most 3650")
    from abm.catalog import resolve
    from abm.cli import backend_of

    base = resolve(args.base)
    config = load(base, [*FIXED, *args.overrides])  # bad settings: one line, before any run
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a folder")
    started = time.perf_counter()
    with backend_of(args) as engine:
        table = run(base, out, args.splits, args.replicates, args.days, args.seed, engine,
                    args.overrides, progress=sys.stderr.isatty())
    summ = summary(table)
    meta = {"splits": args.splits, "replicates": args.replicates, "days": args.days,
            "seed": args.seed, "base": str(args.base), "overrides": [*FIXED, *args.overrides,
                                                                "city.attractiveness_points="
                                                                "<training half>"]}
    text = markdown(table, summ, meta)
    table.to_csv(out / "splits.csv", index=False, float_format="%.4f")
    summ.to_csv(out / "summary.csv", index=False, float_format="%.4f")
    write_text(out / "report.md", text)
    data = manifest(config, time.perf_counter() - started)
    data.update({"kind": "predictive-check", **meta, "data": ATTRIBUTION})
    write_json(out / "manifest.json", data)
    print(text)
    print(f"wrote {out / 'report.md'}, splits.csv, summary.csv")
    return 0


def register(sub) -> None:
    from abm.cli import add_backend_args, add_set_arg

    p = sub.add_parser(
        "predict", help="predictive check on the real crimes of Mesa, Arizona",
        description="Train the model on random halves of Mesa's real crimes (libpysal "
        "geodanet), score its crime map against the other halves: Spearman per intersection, "
        "hit rates and PAI against a kernel-density baseline.")
    p.add_argument("--base", default=BASE, help="scenario on the Mesa streets: a file or a "
                   f"shipped scenario's name (default {BASE})")
    add_set_arg(p)
    p.add_argument("--splits", type=int, default=20, help="random halves (default 20)")
    p.add_argument("--replicates", type=int, default=3, help="model runs per split")
    p.add_argument("--days", type=float, default=365.0, help="simulated days per run")
    p.add_argument("--seed", type=int, default=2026, help="root seed of splits and runs")
    add_backend_args(p)
    p.add_argument("--out", default="runs/predict-mesa", help="output folder")
    p.set_defaults(handler=cmd_predict)
