"""`abm report`: tables and charts of a sweep folder, or the daily charts of a run folder.

Writes into FOLDER/report/ (or --out): CSV and Parquet tables and PNG charts, and prints the
headline tables.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from abm import figures
from abm.config import ConfigError, shown
from abm.experiment import stats
from abm.experiment.design import short_names
from abm.experiment.store import Store, results_frame
from abm.outputs import atomic_write, write_parquet
from abm.units import MINUTES_PER_DAY, hour_of

HEADLINE = ["crimes_total", "crimes_recorded", "arrests", "clearance_rate"]
COVERAGE_KEYS = {"cameras.count", "cameras.range_m", "cameras.placement"}


def _title(key: str) -> str:
    """A figure's name inside a chart's labels (abm.figures)."""
    return figures.title(key).lower()


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def counts_axis(ax, axis: str = "y") -> None:
    """A count's axis starts at zero and has whole-number ticks, so a small change does not
    look like a collapse."""
    from matplotlib.ticker import MaxNLocator

    if axis == "y":
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        ax.set_xlim(left=0)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def save_figure(fig, path: Path) -> Path:
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=110))
    _pyplot().close(fig)
    return path


def save_table(frame: pd.DataFrame, path: Path) -> None:
    """A table as CSV (to read) and Parquet (to load again)."""
    atomic_write(path.with_suffix(".csv"), lambda p: frame.to_csv(p, index=False))
    write_parquet(path.with_suffix(".parquet"), frame)


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def _with_interval(mean: float, lo: float, hi: float) -> str:
    if not math.isfinite(lo):
        return _fmt(mean)
    return f"{_fmt(mean)} [{_fmt(lo)}, {_fmt(hi)}]"


# --- reading a folder's files --------------------------------------------------------------

def read_table(path: Path, columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """A Parquet table of a folder; a damaged or incomplete file is a one-line error."""
    try:
        frame = pd.read_parquet(path)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for damaged files
        raise ConfigError(f"{path}: not a readable Parquet file ({type(exc).__name__})") \
            from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ConfigError(f"{path}: {missing[0]}: column missing (the file is damaged or not "
                          "written by abm)")
    return frame


class SweepManifest(BaseModel):
    """The fields of a sweep's manifest.json that a report reads."""

    model_config = ConfigDict(extra="allow")

    parameters: list[str] = []
    design: dict = {}
    seed: int = 0
    replicates: int | None = None
    sweep: str | None = None


def read_manifest(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not readable JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping, got {type(data).__name__}")
    try:
        SweepManifest.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(map(str, err["loc"]))
        raise ConfigError(f"{path}: {key}: {err['msg']} (got {shown(err['input'])})") from None
    return data


# --- a sweep folder -----------------------------------------------------------------------

class SweepReport:
    """Tables and charts of one sweep folder."""

    def __init__(self, folder: Path, out: Path, metrics: list[str] | None,
                 echo: Callable[..., None]) -> None:
        self.folder, self.out, self.echo = folder, out, echo
        self.manifest = read_manifest(folder / "manifest.json")
        self.keys: list[str] = list(self.manifest.get("parameters", []))
        self.results = self._results()
        self.design = read_table(folder / "design.parquet",
                                 ("point", *(f"sample:{k}" for k in self._sampled())))
        all_metrics = stats.numeric_metrics(self.results, self.keys)
        self.metrics = all_metrics
        wanted = metrics or [m for m in HEADLINE if m in all_metrics]
        unknown = [m for m in wanted if m not in all_metrics]
        if unknown:
            raise ConfigError(f"--metric {unknown[0]}: not a summary figure of this sweep "
                              f"(one of: {', '.join(all_metrics)})")
        self.headline = wanted

    def _sampled(self) -> list[str]:
        """The parameters a sampled design drew (their unrounded samples are in the design)."""
        design = self.manifest.get("design", {})
        if design.get("kind") in ("sobol", "morris") and isinstance(design.get("parameters"),
                                                                     dict):
            return list(design["parameters"])
        return []

    def _results(self) -> pd.DataFrame:
        """Every finished run, from the run files (so a running or stopped sweep works too)."""
        store = Store(self.folder)
        records = store.load()
        if store.unreadable:
            more = len(store.unreadable) - 1
            raise ConfigError(f"{store.unreadable[0]}: not a readable run file"
                              f"{f' (and {more} more)' if more else ''}; run the sweep again "
                              "(abm sweep ... --resume) to redo it, or remove it")
        if records:
            return results_frame(list(records.values()))
        if (self.folder / "results.parquet").exists():
            return read_table(self.folder / "results.parquet",
                              ("run", "point", "label", "status", "baseline_point",
                               *self.keys))
        raise ConfigError(f"{self.folder}: no finished runs yet")

    def write(self) -> None:
        make_folder(self.out)
        points = stats.point_table(self.results, self.keys, self.metrics)
        save_table(points, self.out / "points")
        self._print_points(points)
        effects = stats.paired_effects(self.results, self.metrics)
        if len(effects):
            save_table(effects, self.out / "effects")
            self._print_effects(effects)
        failed = self.results[self.results["status"] != "ok"]
        if len(failed):
            self.echo(f"\n{len(failed)} failed run(s):")
            for _, row in failed.iterrows():
                self.echo(f"  {row['run']} ({row['label']}): {row['error']}")
        self.plot_coverage(points)
        self.plot_response(points)
        if len(effects):
            self.plot_effects(effects)
        kind = self.manifest.get("design", {}).get("kind")
        if kind in ("sobol", "morris"):
            self.sensitivity(kind)
        self.echo(f"\ntables and charts in {self.out}")

    # --- printed tables ----------------------------------------------------------------

    def _print_points(self, points: pd.DataFrame) -> None:
        table = points[["point", "label", "runs"]].copy()
        for m in self.headline:
            table[m] = [_with_interval(a, b, c) for a, b, c in
                        zip(points[f"{m}_mean"], points[f"{m}_lo"], points[f"{m}_hi"],
                            strict=True)]
        self.echo(f"{self.manifest.get('sweep', self.folder.name)}: mean [95% interval] per "
                  f"design point ({self.manifest.get('replicates', '?')} replicates)")
        self.echo(table.to_string(index=False))

    def _print_effects(self, effects: pd.DataFrame) -> None:
        shown = effects[effects["metric"].isin(self.headline)]
        if shown.empty:
            return
        table = shown.drop_duplicates("point")[["label", "baseline_label", "pairs"]]
        table = table.rename(columns={"baseline_label": "against"}).reset_index(drop=True)
        for m in self.headline:
            e = shown[shown["metric"] == m].reset_index(drop=True)
            table[m] = [f"{_with_interval(a, b, c)} {f'{r:+.0%}' if math.isfinite(r) else ''}"
                        for a, b, c, r in zip(e["effect"], e["effect_lo"], e["effect_hi"],
                                              e["relative"], strict=True)]
        self.echo("\neffect against the baseline: mean difference per run [95% interval] "
                  "relative change (paired by seed)")
        self.echo(table.to_string(index=False))

    # --- charts ------------------------------------------------------------------------

    def _groups(self, points: pd.DataFrame, exclude: set[str]) -> list[tuple[str, pd.DataFrame]]:
        keys = [k for k in self.keys if k not in exclude]
        if not keys:
            return [("", points)]
        return [(", ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in
                           zip(keys, combo if isinstance(combo, tuple) else (combo,),
                               strict=True)), g)
                for combo, g in points.groupby(keys, sort=True, dropna=False)]

    def scope(self) -> str:
        """What the charts are about: the sweep and the scenario it varies."""
        import yaml

        name = self.manifest.get("sweep") or self.folder.name
        try:
            base = yaml.safe_load((self.folder / "sweep.yaml").read_text(encoding="utf-8"))
            scenario = Path(str(base.get("base"))).stem if isinstance(base, dict) else None
        except (OSError, ValueError, yaml.YAMLError):
            scenario = None
        return f"sweep {name} on scenario {scenario}" if scenario else f"sweep {name}"

    def plot_coverage(self, points: pd.DataFrame) -> None:
        """Crime against camera coverage, one line per uptime setting (or coloured by it)."""
        cov = points.get("camera_coverage_mean")
        if cov is None or cov.round(6).nunique() < 2:
            return
        plt = _pyplot()
        metrics = [m for m in ("crimes_total", "crimes_recorded") if f"{m}_mean" in points]
        fig, axes = plt.subplots(1, len(metrics), figsize=(6 * len(metrics), 4.5),
                                 squeeze=False, layout="constrained")
        groups = self._groups(points, COVERAGE_KEYS)
        as_lines = self.manifest["design"]["kind"] in ("grid", "list") and len(groups) <= 10
        for ax, m in zip(axes[0], metrics, strict=True):
            if as_lines:
                for name, g in groups:
                    g = g.sort_values("camera_coverage_mean")
                    up = g["camera_uptime_mean"].dropna()
                    tag = f"{name} (uptime {up.mean():.2f})" if len(up) else name
                    line, = ax.plot(g["camera_coverage_mean"], g[f"{m}_mean"], marker="o",
                                    label=tag or None)
                    ax.fill_between(g["camera_coverage_mean"], g[f"{m}_lo"], g[f"{m}_hi"],
                                    color=line.get_color(), alpha=0.2, linewidth=0)
                if any(name for name, _ in groups):
                    ax.legend(fontsize=8, title="95% intervals shaded", title_fontsize=8)
            else:
                ax.errorbar(points["camera_coverage_mean"], points[f"{m}_mean"],
                            yerr=_yerr(points, m), fmt="none", ecolor="0.7", zorder=1)
                sc = ax.scatter(points["camera_coverage_mean"], points[f"{m}_mean"],
                                c=points.get("camera_uptime_mean"), cmap="viridis", zorder=2)
                fig.colorbar(sc, ax=ax, label="camera uptime")
            ax.set_xlabel(_title("camera_coverage"))
            ax.set_ylabel(f"{_title(m)} per run (count)")
            ax.set_xlim(left=0)
            counts_axis(ax)
            ax.grid(alpha=0.3)
        fig.suptitle(f"{self.scope()}: crime against camera coverage (mean and 95% interval "
                     "over replicates)")
        save_figure(fig, self.out / "crime_by_coverage.png")

    def plot_response(self, points: pd.DataFrame) -> None:
        """Response time against clearance, per design point."""
        need = ("response_time_median_min_mean", "clearance_rate_mean")
        if not all(c in points for c in need) or points[list(need)].dropna().empty:
            return
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
        ok = stats.ok_runs(self.results)
        ax.scatter(ok["response_time_median_min"], ok["clearance_rate"], s=10, color="0.75",
                   label="single runs", zorder=1)
        police = [k for k in self.keys if k.startswith("police.")]
        colour = (police or self.keys or [None])[0]  # colour by a police setting if any
        groups = self._groups(points, set(self.keys) - {colour})
        for name, g in groups:
            ax.errorbar(g["response_time_median_min_mean"], g["clearance_rate_mean"],
                        xerr=_yerr(g, "response_time_median_min"),
                        yerr=_yerr(g, "clearance_rate"), fmt="o", capsize=3,
                        label=name or "design points", zorder=2)
        ax.set_xlabel(_title("response_time_median_min"))
        ax.set_ylabel(_title("clearance_rate"))
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        ax.set_title(f"{self.scope()}: response time and clearance\n(mean and 95% interval "
                     "per design point)")
        save_figure(fig, self.out / "response_vs_clearance.png")

    def plot_effects(self, effects: pd.DataFrame) -> None:
        """Paired effect of each design point against its baseline."""
        metrics = [m for m in ("crimes_total", "crimes_recorded") if m in set(effects["metric"])]
        plt = _pyplot()
        labels = effects[effects["metric"] == metrics[0]]
        height = max(2.5, 0.35 * len(labels) + 1.5)
        fig, axes = plt.subplots(1, len(metrics), figsize=(6 * len(metrics), height),
                                 squeeze=False, sharey=True, layout="constrained")
        for ax, m in zip(axes[0], metrics, strict=True):
            e = effects[effects["metric"] == m].reset_index(drop=True)
            y = np.arange(len(e))
            err = np.vstack([e["effect"] - e["effect_lo"], e["effect_hi"] - e["effect"]])
            ax.errorbar(e["effect"], y, xerr=np.nan_to_num(err), fmt="o", capsize=3)
            ax.axvline(0, color="0.4", linewidth=1)
            ax.set_yticks(y, [f"{a}  vs  {b}" for a, b in zip(e["label"], e["baseline_label"],
                                                                 strict=True)], fontsize=8)
            ax.set_xlabel(f"difference in {_title(m)} per run (count)")
            ax.set_ylabel("design point vs its baseline")
            ax.grid(alpha=0.3, axis="x")
        axes[0][0].invert_yaxis()  # first design point on top (the y axis is shared)
        fig.suptitle(f"{self.scope()}: effect against the baseline (same seeds; mean and 95% "
                     "interval)")
        save_figure(fig, self.out / "effects.png")

    def sensitivity(self, kind: str) -> None:
        from pydantic import TypeAdapter

        from abm.experiment.design import Design

        design = TypeAdapter(Design).validate_python(self.manifest["design"])
        table, notes = stats.sensitivity(design, self.design, self.results, self.headline,
                                         int(self.manifest.get("seed", 0)))
        for note in notes:
            self.echo(f"sensitivity: {note}")
        if table.empty:
            return
        save_table(table, self.out / "sensitivity")
        self.echo(f"\n{kind} sensitivity indices")
        self.echo(table.to_string(index=False, float_format=lambda x: f"{x:.3g}"))
        plt = _pyplot()
        metrics = list(dict.fromkeys(table["metric"]))
        fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 4),
                                 squeeze=False, layout="constrained")
        for ax, m in zip(axes[0], metrics, strict=True):
            t = table[table["metric"] == m]
            short = short_names(list(t["parameter"]))
            names = [short[p] for p in t["parameter"]]
            if kind == "sobol":
                x = np.arange(len(t))
                ax.bar(x - 0.2, t["S1"], 0.4, yerr=t["S1_conf"], capsize=3, label="first order")
                ax.bar(x + 0.2, t["ST"], 0.4, yerr=t["ST_conf"], capsize=3, label="total")
                ax.set_xticks(x, names, rotation=30, ha="right")
                ax.set_xlabel("parameter")
                ax.set_ylabel("Sobol index (share of the variance)")
                ax.set_ylim(bottom=0)
                ax.legend(fontsize=8)
            else:
                ax.errorbar(t["mu_star"], t["sigma"], xerr=t["mu_star_conf"], fmt="o",
                            capsize=3)
                for name, a, b in zip(names, t["mu_star"], t["sigma"], strict=True):
                    ax.annotate(name, (a, b), fontsize=8, xytext=(4, 4),
                                textcoords="offset points")
                unit = f"{_title(m)} per unit of the parameter's range"
                ax.set_xlabel(f"mu* (mean absolute elementary effect; {unit})", fontsize=8)
                ax.set_ylabel(f"sigma (interaction / non-linearity; {unit})", fontsize=8)
                ax.set_xlim(left=0)
                ax.set_ylim(bottom=0)
            ax.set_title(_title(m), fontsize=10)
            ax.grid(alpha=0.3)
        fig.suptitle(f"{self.scope()}: {kind} sensitivity (replicate means per design point)")
        save_figure(fig, self.out / "sensitivity.png")


def _yerr(points: pd.DataFrame, m: str) -> np.ndarray:
    err = np.vstack([points[f"{m}_mean"] - points[f"{m}_lo"],
                     points[f"{m}_hi"] - points[f"{m}_mean"]])
    return np.nan_to_num(err.astype(float))


# --- a run folder -------------------------------------------------------------------------

RUN_METRICS = ("day", "crimes_true", "crimes_recorded", "arrests", "cameras_up_mean",
               "cameras_installed", "perceived_camera_risk_mean")


def run_report(folder: Path, out: Path, echo: Callable[..., None]) -> None:
    """Daily charts of one run: crimes true and recorded, arrests, cameras up, risk."""
    metrics = read_table(folder / "metrics.parquet", RUN_METRICS)
    summary_file = folder / "summary.json"
    summary = {}
    if summary_file.exists():
        try:
            summary = json.loads(summary_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{summary_file}: not readable JSON ({type(exc).__name__})") \
                from None
        if not isinstance(summary, dict):
            raise ConfigError(f"{summary_file}: expected a mapping, got "
                              f"{type(summary).__name__}")
    make_folder(out)
    plt = _pyplot()
    day = np.ceil(metrics["day"].to_numpy() - 1e-9)  # the day each row closes
    fig, axes = plt.subplots(4, 1, figsize=(8, 10), sharex=True, layout="constrained")
    ax = axes[0]
    ax.plot(day, metrics["crimes_true"], marker=".", label="true")
    ax.plot(day, metrics["crimes_recorded"], marker=".", label="recorded")
    ax.set_ylabel("crimes per day (count)")
    ax.legend(fontsize=8)
    axes[1].bar(day, metrics["arrests"], color="tab:green")
    axes[1].set_ylabel("arrests per day (count)")
    axes[2].plot(day, metrics["cameras_up_mean"], label="working (mean over the day)")
    axes[2].plot(day, metrics["cameras_installed"], linestyle="--", color="0.5",
                 label="installed")
    axes[2].set_ylabel("cameras (count)")
    axes[2].legend(fontsize=8)
    for ax in axes[:3]:
        counts_axis(ax)
    axes[3].plot(day, metrics["perceived_camera_risk_mean"], color="tab:red")
    axes[3].set_ylabel("perceived camera risk\n(offenders' mean, 0 to 1)")
    axes[3].set_ylim(0, 1)
    axes[3].set_xlabel("day of the run")
    axes[3].set_xlim(left=0)
    for ax in axes:
        ax.grid(alpha=0.3)
    scenario = _run_name(folder)
    fig.suptitle(f"{scenario}: daily figures" if scenario == folder.name
                 else f"Scenario {scenario} ({folder.name}): daily figures")
    save_figure(fig, out / "daily.png")
    if summary:
        width = max(len(k) for k in summary)
        for key, value in summary.items():
            shown = _fmt(value) if isinstance(value, float) else str(value)
            echo(f"{key:<{width}}  {shown}")
    echo(f"\nchart in {out / 'daily.png'}")
    _hours(folder, out, echo)
    _spatial(folder, out, echo)


def _hours(folder: Path, out: Path, echo: Callable[..., None]) -> None:
    """Crimes by hour of the day, true and recorded (a table and a chart)."""
    crimes = read_table(folder / "crimes.parquet", ("time_min", "recorded"))
    hour = [hour_of(t) for t in crimes["time_min"]]  # (runs made before the log had `hour`)
    hours = np.arange(24)
    table = pd.DataFrame({"hour": hours,
                          "crimes_true": np.bincount(hour, minlength=24),
                          "crimes_recorded": np.bincount(hour, weights=crimes["recorded"],
                                                         minlength=24).astype(int)})
    save_table(table, out / "crime_by_hour")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
    ax.bar(hours - 0.2, table["crimes_true"], width=0.4, label="true")
    ax.bar(hours + 0.2, table["crimes_recorded"], width=0.4, label="recorded")
    ax.set_xticks(hours)
    ax.set_xlabel("hour of the day (0 = midnight to 1 am)")
    ax.set_ylabel("crimes (count)")
    counts_axis(ax)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    ax.set_title(f"{_run_name(folder)}: crime by hour of the day")
    save_figure(fig, out / "crime_by_hour.png")
    peak = int(table["crimes_true"].idxmax())
    echo(f"crime by hour: most at {peak}:00-{peak + 1}:00, fewest at "
         f"{int(table['crimes_true'].idxmin())}:00 -> {out / 'crime_by_hour.png'}")


def _spatial(folder: Path, out: Path, echo: Callable[..., None]) -> None:
    """Knox test and Gi* hot spots of the run's crimes (abm.spatial), on its rebuilt city."""
    from abm import spatial
    from abm.config import load
    from abm.model import city_seed
    from abm.outputs import write_json
    from abm.streets import build_city

    crimes = pd.read_parquet(folder / "crimes.parquet")
    if not (folder / "config.yaml").exists() or len(crimes) < 3:
        return
    config = load(folder / "config.yaml")
    city = build_city(config.city, city_seed(config))
    counts = np.bincount(crimes["node"].to_numpy(), minlength=city.n)
    spots = spatial.hot_spots(city.xy, counts, spatial.HOT_SPOT_RADIUS_M, seed=config.run.seed)
    spots.insert(0, "node", np.arange(city.n))
    save_table(spots, out / "hotspots")
    knox = spatial.knox(city.xy[crimes["node"].to_numpy()], crimes["time_min"] / MINUTES_PER_DAY,
                        seed=config.run.seed)
    write_json(out / "knox.json", {**knox.as_dict(), "distance_m": spatial.NEAR_REPEAT_M,
                                   "days": spatial.NEAR_REPEAT_DAYS})
    hot = int((spots["spot"] == "hot").sum())
    echo(f"hot spots (Gi*, {spatial.HOT_SPOT_RADIUS_M:g} m): {hot} of {city.n} places; Knox "
         f"ratio within {spatial.NEAR_REPEAT_M:g} m and {spatial.NEAR_REPEAT_DAYS:g} days "
         f"{knox.ratio:.2f} (p = {knox.p_value:.2f}) -> {out / 'hotspots.csv'}, "
         f"{out / 'knox.json'}")


def make_folder(out: Path) -> None:
    """The report's folder; a file in its way or an unwritable place is a one-line error."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigError(f"--out {out}: exists and is not a folder") from None
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot write ({exc.strerror or exc})") from None


def _run_name(folder: Path) -> str:
    """The scenario a run folder holds (its config's run.name), else the folder's name."""
    import yaml

    try:
        data = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
        name = data["run"]["name"]
    except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError):
        return folder.name
    return str(name) if name else folder.name


def report(folder: Path, out: Path | None = None, metrics: list[str] | None = None,
           echo: Callable[..., None] = print) -> Path:
    """Report on a sweep folder or a run folder; returns where the files went."""
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such folder")
    out = out or folder / "report"
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a folder")
    if Store(folder).is_sweep():
        if not (folder / "design.parquet").exists():
            raise ConfigError(f"{folder}: sweep folder without design.parquet")
        SweepReport(folder, out, metrics, echo).write()
    elif (folder / "metrics.parquet").exists():
        run_report(folder, out, echo)
    else:
        raise ConfigError(f"{folder}: neither a sweep folder (manifest.json of a sweep) nor a "
                          "run folder (metrics.parquet)")
    return out
