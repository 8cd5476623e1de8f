"""Compare camera placement strategies with paired seeds; the figures in docs/placement.md.

Runs the design of configs/sweeps/placement.yaml (every strategy on the same replicate seeds)
through abm.simulate.simulate, then reports per strategy the mean and 95% interval of each
measure, and the paired difference from random siting. `abm sweep configs/sweeps/placement.yaml`
runs the same design through the sweep runner.

    python scripts/placement_compare.py                       # the sweep file as it is
    python scripts/placement_compare.py --base configs/real-city.yaml --days 60 --tag real-city
    python scripts/placement_compare.py --base configs/helsinki.yaml --tag helsinki \
        --strategies random,attractive,busiest,hotspots,max_coverage,mapped,none
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from abm.config import load
from abm.outputs import atomic_write, write_text
from abm.simulate import simulate

ROOT = Path(__file__).resolve().parent.parent
SWEEP = ROOT / "configs" / "sweeps" / "placement.yaml"
NONE = "none"  # the same city and people without cameras
MEASURES = {
    "crimes_coverage": "crimes in camera coverage",
    "crimes_total": "crimes in total",
    "crimes_under_working_camera": "crimes under a working camera",
    "camera_coverage": "share of places covered",
    "arrests": "arrests",
}


def seeds(root: int, replicates: int) -> list[int]:
    """Replicate seeds spawned from the sweep's seed (shared by every strategy: paired)."""
    children = np.random.SeedSequence(root).spawn(replicates)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]


def interval(x: np.ndarray) -> tuple[float, float, float]:
    """Mean and two-sided 95% t interval."""
    m = float(np.mean(x))
    if len(x) < 2:
        return m, m, m
    half = float(stats.t.ppf(0.975, len(x) - 1) * np.std(x, ddof=1) / np.sqrt(len(x)))
    return m, m - half, m + half


def run(base: Path, sets: list[str], strategies: list[str], seed_list: list[int]) -> pd.DataFrame:
    rows = []
    for r, seed in enumerate(seed_list):
        for strategy in strategies:
            placed = (["cameras.count=0"] if strategy == NONE
                      else [f"cameras.placement={strategy}"])
            config = load(base, [*sets, *placed, f"run.seed={seed}"])
            started = time.perf_counter()
            result = simulate(config)
            rows.append({"replicate": r, "seed": seed, "placement": strategy,
                         **{k: result.summary[k] for k in MEASURES},
                         "wall_s": round(time.perf_counter() - started, 2)})
            print(f"  replicate {r} {strategy:>12}: {result.summary['crimes_total']} crimes, "
                  f"{result.summary['crimes_coverage']} in coverage, {rows[-1]['wall_s']} s",
                  flush=True)
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
    seed_list = seeds(sweep["seed"], args.replicates or sweep["replicates"])
    print(f"{base.name}: {len(strategies)} placements x {len(seed_list)} paired seeds, "
          f"{sets}")
    if args.replot:
        runs = pd.read_csv(args.out / f"{args.tag}-runs.csv")
    else:
        runs = run(base, [f"{k}={v}" for k, v in sets.items()], strategies, seed_list)
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
