"""Compare camera placement strategies with paired seeds; the figures in docs/placement.md.

Runs the design of abm/configs/sweeps/placement.yaml (every strategy on the same replicate
seeds) on the sweep runner's local workers, then reports per strategy the mean and 95% interval
of each measure, and the paired difference from random siting. `abm sweep placement` runs the
same design into a sweep folder.

    python scripts/placement_compare.py                       # the sweep file as it is
    python scripts/placement_compare.py --base abm/configs/real-city.yaml --days 60 --tag real-city
    python scripts/placement_compare.py --base abm/configs/helsinki.yaml --tag helsinki \
        --strategies random,attractive,busiest,hotspots,max_coverage,mapped,none
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from abm.config import Config, load
from abm.experiment.backends import LocalBackend, Task
from abm.experiment.runner import run_all
from abm.experiment.seeds import replicate_seeds
from abm.experiment.stats import interval as stats_interval
from abm.outputs import atomic_write, write_text

ROOT = Path(__file__).resolve().parent.parent
SWEEP = ROOT / "abm" / "configs" / "sweeps" / "placement.yaml"
NONE = "none"  # the same city and people without cameras
MEASURES = {
    "crimes_coverage": "crimes in camera coverage",
    "crimes_total": "crimes in total",
    "crimes_under_working_camera": "crimes under a working camera",
    "camera_coverage": "share of places covered",
    "arrests": "arrests",
}


def interval(x: np.ndarray) -> tuple[float, float, float]:
    """Mean and two-sided 95% t interval (the mean alone from one run)."""
    n, m, lo, hi = stats_interval(x)
    return (m, m, m) if n < 2 else (m, lo, hi)


def run(base: Config, strategies: list[str], seed_list: list[int],
        workers: int | None) -> pd.DataFrame:
    """Every strategy on every seed, through the sweep runner's local workers."""
    todo = [(r, seed, strategy) for r, seed in enumerate(seed_list) for strategy in strategies]
    tasks = [Task(f"{strategy} r{r}", base.changed({
        **({"cameras.count": 0} if strategy == NONE else {"cameras.placement": strategy}),
        "run.seed": seed}).model_dump(mode="json")) for r, seed, strategy in todo]
    rows = []
    for (r, seed, strategy), outcome in zip(
            todo, run_all(tasks, LocalBackend(workers), "placement", progress=True), strict=True):
        summary = outcome["summary"]
        rows.append({"replicate": r, "seed": seed, "placement": strategy,
                     **{k: summary[k] for k in MEASURES}, "wall_s": round(outcome["wall_s"], 2)})
        print(f"  replicate {r} {strategy:>12}: {summary['crimes_total']} crimes, "
              f"{summary['crimes_coverage']} in coverage, {rows[-1]['wall_s']} s", flush=True)
    return pd.DataFrame(rows)


def summarise(runs: pd.DataFrame, strategies: list[str], baseline: str) -> pd.DataFrame:
    rows = []
    base = runs[runs["placement"] == baseline].set_index("replicate")
    for strategy in strategies:
        mine = runs[runs["placement"] == strategy].set_index("replicate")
        for key in MEASURES:
            m, lo, hi = interval(mine[key].to_numpy(float))
            d, dlo, dhi = interval((mine[key] - base[key]).to_numpy(float))
            rows.append({"placement": strategy, "measure": key, "mean": m, "lo": lo, "hi": hi,
                         "diff": d, "diff_lo": dlo, "diff_hi": dhi})
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame, strategies: list[str], baseline: str) -> str:
    fmt = {"camera_coverage": "{:.3f}"}
    head = "| placement | " + " | ".join(MEASURES.values()) + " |"
    lines = [head, "|" + "---|" * (len(MEASURES) + 1)]
    for strategy in strategies:
        cells = []
        for key in MEASURES:
            row = table[(table.placement == strategy) & (table.measure == key)].iloc[0]
            f = fmt.get(key, "{:.1f}")
            cell = f"{f.format(row['mean'])} ({f.format(row['lo'])} to {f.format(row['hi'])})"
            if strategy != baseline:
                cell += (f"<br>vs {baseline}: {row['diff']:+.1f} ({row['diff_lo']:+.1f} to "
                         f"{row['diff_hi']:+.1f})" if key not in fmt else
                         f"<br>vs {baseline}: {row['diff']:+.3f}")
            cells.append(cell)
        lines.append(f"| {strategy} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def figure(table: pd.DataFrame, strategies: list[str], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    keys = list(MEASURES)[:4]
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3.6))
    for ax, key in zip(axes, keys, strict=True):
        part = table[table.measure == key].set_index("placement").loc[strategies]
        y = np.arange(len(strategies))
        ax.errorbar(part["mean"], y, xerr=[part["mean"] - part["lo"], part["hi"] - part["mean"]],
                    fmt="o", capsize=4)
        ax.set_yticks(y, strategies if ax is axes[0] else [""] * len(strategies))
        ax.invert_yaxis()
        ax.set_title(MEASURES[key], fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        if key == "camera_coverage":
            ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=2))
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", type=Path, default=SWEEP)
    parser.add_argument("--base", type=Path, help="scenario instead of the sweep's base")
    parser.add_argument("--days", type=float, help="simulated days instead of the sweep's")
    parser.add_argument("--replicates", type=int, help="replicates instead of the sweep's")
    parser.add_argument("--tag", default="default", help="name of the output files")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "placement")
    parser.add_argument("--replot", action="store_true",
                        help="summarise the runs already in <out>/<tag>-runs.csv")
    parser.add_argument("--workers", type=int, help="parallel runs (default: all cores)")
    parser.add_argument("--strategies", help="comma-separated placements instead of the "
                        "sweep's (e.g. random,mapped); 'none' is the same city without cameras")
    args = parser.parse_args()
    sweep = yaml.safe_load(args.sweep.read_text())
    base = args.base or (args.sweep.parent / sweep["base"]).resolve()
    sets = {**sweep.get("set", {})}
    if args.days:
        sets["run.days"] = args.days
    strategies = (args.strategies.split(",") if args.strategies
                  else sweep["design"]["parameters"]["cameras.placement"])
    baseline = sweep["baseline"]["cameras.placement"]
    seed_list = replicate_seeds(sweep["seed"], args.replicates or sweep["replicates"])
    print(f"{base.name}: {len(strategies)} placements x {len(seed_list)} paired seeds, "
          f"{sets}")
    if args.replot:
        runs = pd.read_csv(args.out / f"{args.tag}-runs.csv")
    else:
        runs = run(load(base).changed(sets), strategies, seed_list, args.workers)
    table = summarise(runs, strategies, baseline)
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write(args.out / f"{args.tag}-runs.csv", lambda p: runs.to_csv(p, index=False))
    atomic_write(args.out / f"{args.tag}-summary.csv",
                 lambda p: table.to_csv(p, index=False, float_format="%.4f"))
    text = markdown(table, strategies, baseline)
    write_text(args.out / f"{args.tag}-table.md", text)
    title = (f"{base.name}, {sets.get('run.days')} days, {len(seed_list)} paired seeds: "
             f"mean and 95% interval")
    figure(table, strategies, title, args.out / f"{args.tag}.png")
    print(text)
    print(f"total wall time {runs['wall_s'].sum():.0f} s")


if __name__ == "__main__":
    main()
