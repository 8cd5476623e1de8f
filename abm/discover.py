"""`abm discover SPEC.yaml`: which worlds make an outcome happen (scenario discovery, PRIM).

A scenario rests on assumptions nobody measured (a background trend, how much a control room
adds to reporting, how fast offenders learn). Discovery samples those inputs over their
plausible ranges (a Latin hypercube, run by the sweep runner: workers, Dask, resume), scores
each point by an outcome of interest ("recorded crime in 2018 at least 25% above 2016"), and
asks PRIM (EMA Workbench) for the box of inputs where the outcome mostly holds. The box is the
answer to "which worlds give this result?"; its coverage (share of the hits inside it) and
density (share of its points that hit) say how good an answer it is.

Spec::

    name: islamabad-rise              # output folder runs/discover-<name>-<hash> (default: stem)
    scenario: islamabad-staff-moved   # a shipped scenario, or a file relative to the spec
    set: {}                           # fixed for every run
    samples: 200                      # Latin hypercube points over the uncertain inputs
    replicates: 1
    seed: 2016
    uncertain:                        # setting -> [low, high]
      offenders.trend_per_year: [0.0, 0.15]
    outcome:
      label: "recorded crime in 2018 at least 25% above 2016"
      numerator: recorded_days:1095-1460      # a summary figure or an abm.measures name
      denominator: recorded_days:365-730      # optional: the outcome is then the ratio
      at_least: 1.25                          # or at_most
    prim: {threshold: 0.8, peel_alpha: 0.05, mass_min: 0.05}

The runs of the sweep are kept in ``OUT-sweep/`` (a sweep folder: `abm report` reads it), so
the same command again goes on where it stopped; the discovery folder itself is written whole.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import tempfile
import typing
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from abm import catalog
from abm import config as cfg
from abm.config import NAME, NAME_RULE, ConfigError, shown
from abm.experiment.design import Spec

KIND = "discovery"


class Outcome(Spec):
    label: str = Field(min_length=1, max_length=200)
    numerator: str
    denominator: str | None = None
    at_least: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _one_threshold(self) -> Outcome:
        given = [v for v in (self.at_least, self.at_most) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of at_least and at_most")
        if not math.isfinite(given[0]):
            raise ValueError("the threshold must be a finite number")
        return self

    def holds(self, value: float) -> bool:
        return value >= self.at_least if self.at_least is not None else value <= self.at_most

    def rule(self) -> str:
        what = self.numerator if self.denominator is None else \
            f"{self.numerator} / {self.denominator}"
        return f"{what} {'>=' if self.at_least is not None else '<='} " \
               f"{self.at_least if self.at_least is not None else self.at_most:g}"


class PrimSettings(Spec):
    """PRIM's knobs: the box chosen is the one of most coverage with density >= threshold."""

    threshold: float = Field(0.8, gt=0, le=1)
    peel_alpha: float = Field(0.05, gt=0, lt=0.5)
    paste_alpha: float = Field(0.05, gt=0, lt=0.5)
    mass_min: float = Field(0.05, gt=0, lt=1)


class DiscoverySpec(Spec):
    name: str | None = None
    description: str | None = None
    scenario: str
    set: dict[str, Any] = {}
    samples: int = Field(ge=1, le=1_000_000)
    replicates: int = Field(1, ge=1, le=100_000)
    seed: int = Field(ge=0, le=2**63 - 1)
    uncertain: dict[str, list[float]] = Field(min_length=1, max_length=50)
    outcome: Outcome
    prim: PrimSettings = PrimSettings()

    @field_validator("uncertain", mode="before")
    @classmethod
    def _ranges(cls, uncertain: Any) -> Any:
        if not isinstance(uncertain, dict):
            return uncertain
        for key, pair in uncertain.items():
            if not isinstance(pair, list) or len(pair) != 2 or any(
                    isinstance(v, bool) or not isinstance(v, int | float) for v in pair):
                raise ValueError(f"{key}: expected [low, high], two numbers (got {shown(pair)})")
            try:
                low, high = float(pair[0]), float(pair[1])
            except OverflowError:
                raise ValueError(f"{key}: a number too large for any setting") from None
            if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
                raise ValueError(f"{key}: low must be a finite number below high "
                                 f"(got [{low}, {high}])")
        return uncertain


def _error(path: Path, exc: ValidationError) -> ConfigError:
    err = exc.errors()[0]
    where, msg = ".".join(str(p) for p in err["loc"]), cfg.problem(err)
    if where == "uncertain" and ": " in msg:  # the range validator names the key first
        key, msg = msg.split(": ", 1)
        where = f"uncertain.{key}"
    return ConfigError(f"{path}: {where}: {msg}" if where else f"{path}: {msg}")


def number_type(key: str) -> str:
    """"int" or "float": what the setting ``key`` holds (other settings cannot be sampled)."""
    annotation = cfg.setting(key).annotation
    kinds = {annotation, *typing.get_args(annotation)} - {type(None)}
    if kinds == {int}:
        return "int"
    if kinds == {float}:
        return "float"
    raise ConfigError(f"{key}: not a number setting; only numbers can be sampled (fix it in "
                      "set)")


class Discovery:
    """A checked spec: the fixed base, the uncertain inputs and their kinds, the outcome."""

    def __init__(self, path: Path, spec: DiscoverySpec, name: str, scenario: Path,
                 base: cfg.Config, kinds: dict[str, str]) -> None:
        self.path, self.spec, self.name = path, spec, name
        self.scenario, self.base, self.kinds = scenario, base, kinds

    @property
    def measures(self) -> tuple[str, ...]:
        o = self.spec.outcome
        return tuple(k for k in (o.numerator, o.denominator) if k is not None)

    def hash(self) -> str:
        """Names the default folder: the fixed base, the sample, the outcome and PRIM."""
        data = {"base": self.base.hash(), **self.spec.model_dump(
            mode="json", include={"uncertain", "samples", "replicates", "seed", "outcome",
                                  "prim"})}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:8]

    def sweep_doc(self) -> dict:
        """The Latin-hypercube sweep the runner executes."""
        fixed = cfg.beside(self.path.parent, self.spec.set)
        ranges = {k: {"min": lo, "max": hi, "type": self.kinds[k]}
                  for k, (lo, hi) in self.spec.uncertain.items()}
        return {"name": f"discover-{self.name}", "base": str(self.scenario.resolve()),
                "set": fixed, "design": {"kind": "lhs", "parameters": ranges,
                                         "samples": self.spec.samples},
                "replicates": self.spec.replicates, "seed": self.spec.seed}


def load_spec(path: str | Path, samples: int | None = None, overrides: list[str] = (),
              max_runs: int | None = None) -> Discovery:
    """Read and check a spec before anything runs: structure, size, every range at both ends
    inside its setting's bounds, the outcome's figures. ``samples`` and ``overrides`` come
    from the command line."""
    from abm.calibrate import PROBE
    from abm.experiment.sweepfile import MAX_RUNS, RESERVED
    from abm.measures import parse

    path = catalog.resolve(path, catalog.Kind.DISCOVERY)
    data = cfg.read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping (scenario, uncertain, outcome, ...)")
    data = dict(data)
    if samples is not None:
        data["samples"] = samples
    if overrides:
        fixed = dict(data.get("set") or {}) if isinstance(data.get("set"), dict) else {}
        for text in overrides:
            key, value = cfg.parse_override(text)
            fixed[".".join(key)] = value
        data["set"] = fixed
    try:
        spec = DiscoverySpec.model_validate(data)
    except ValidationError as exc:
        raise _error(path, exc) from None
    name = spec.name or path.stem
    if not NAME.match(name):
        raise ConfigError(f"{path}: name: {NAME_RULE} (got {shown(name)})")
    limit = MAX_RUNS if max_runs is None else max_runs
    runs = spec.samples * spec.replicates
    if runs > limit:
        raise ConfigError(f"{path}: samples: {spec.samples:,} points x {spec.replicates:,} "
                          f"replicates = {runs:,} runs, above the limit of {limit:,} "
                          f"(--max-runs {runs} runs them anyway)")
    for key in [*spec.set, *spec.uncertain]:
        if key in RESERVED:
            where = "set" if key in spec.set else "uncertain"
            raise ConfigError(f"{path}: {where}.{key}: {RESERVED[key]}")
    both = sorted(set(spec.set) & set(spec.uncertain))
    if both:
        raise ConfigError(f"{path}: uncertain.{both[0]}: also fixed in set; remove one")
    try:
        scenario = catalog.resolve(spec.scenario, catalog.Kind.SCENARIO, path.parent)
        loaded = cfg.load(scenario)
    except ConfigError as exc:
        raise ConfigError(f"{path}: scenario: {exc}") from None
    try:
        base = loaded.changed(spec.set, origin="set")
    except ConfigError as exc:
        raise ConfigError(f"{path}: set.{str(exc).removeprefix('set: ')}") from None
    kinds = {}
    for key, (low, high) in spec.uncertain.items():
        try:
            kinds[key] = number_type(key)
        except ConfigError as exc:
            raise ConfigError(f"{path}: uncertain.{exc}") from None
        if kinds[key] == "int" and not (float(low).is_integer() and float(high).is_integer()):
            raise ConfigError(f"{path}: uncertain.{key}: a whole-number setting takes whole "
                              f"numbers (got [{low}, {high}])")
        for end in (low, high):
            value = int(end) if kinds[key] == "int" else float(end)
            try:
                loaded.changed({**spec.set, key: value}, origin=f"uncertain.{key} = {value}")
            except ConfigError as exc:
                raise ConfigError(f"{path}: {exc}") from None
    known = None
    for field in ("numerator", "denominator"):
        figure = getattr(spec.outcome, field)
        if figure is None:
            continue
        try:
            computed = parse(figure) is not None
        except ConfigError as exc:
            raise ConfigError(f"{path}: outcome.{field}: {exc}") from None
        if not computed:
            from abm.simulate import simulate

            known = known or set(simulate(cfg.Config().changed(PROBE)).summary)
            if figure not in known:
                raise ConfigError(f"{path}: outcome.{field}: {figure}: not a summary figure "
                                  "or measure")
    return Discovery(path, spec, name, scenario, base, kinds)


def score(d: Discovery, sweep, results: pd.DataFrame) -> pd.DataFrame:
    """One row per design point: its inputs, the outcome (mean over its replicates of the
    ratio, or of the figure) and whether it hits. A point with a failed run, or a ratio over
    zero, has no outcome and is left out of PRIM."""
    o = d.spec.outcome
    ok = results[results["status"] == "ok"].copy()
    value = ok[o.numerator].astype(float)
    if o.denominator is not None:
        den = ok[o.denominator].astype(float)
        value = (value / den.where(den != 0)).astype(float)
    ok["_value"] = value
    ok["_num"] = ok[o.numerator].astype(float)
    ok["_den"] = ok[o.denominator].astype(float) if o.denominator is not None else np.nan
    grouped = ok.groupby("point")
    rows = []
    for point, values in zip(sweep.points, sweep.values, strict=True):
        mine = grouped.get_group(point.index) if point.index in grouped.groups else ok.iloc[:0]
        whole = len(mine) == d.spec.replicates and not mine["_value"].isna().any()
        outcome = float(mine["_value"].mean()) if whole else math.nan
        rows.append({"point": point.index, **{k: values[k] for k in d.spec.uncertain},
                     "numerator": float(mine["_num"].mean()) if len(mine) else math.nan,
                     "denominator": float(mine["_den"].mean()) if len(mine) else math.nan,
                     "replicates_ok": len(mine), "outcome": outcome,
                     "hit": o.holds(outcome) if whole else pd.NA})
    frame = pd.DataFrame(rows)
    frame["hit"] = frame["hit"].astype("boolean")
    if o.denominator is None:
        frame = frame.drop(columns="denominator")
    return frame


def _prim_module():
    # ema_workbench says on import which optional parallel evaluators it lacks; discovery
    # uses none of them.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not installed.*", category=UserWarning)
        from ema_workbench.analysis import prim
    return prim


def find_box(d: Discovery, points: pd.DataFrame):
    """PRIM over the points with an outcome: the peeling trajectory (with each step's limits)
    and the chosen step (most coverage among steps of density >= threshold), or None."""
    used = points[points["hit"].notna()].reset_index(drop=True)
    keys = list(d.spec.uncertain)
    y = used["hit"].to_numpy(dtype=bool)
    if len(used) == 0 or not y.any():
        return None, None, None
    prim = _prim_module()
    # Every input as a real number: EMA Workbench's pasting of whole-number columns writes
    # fractional limits into an int64 frame, which pandas refuses.
    x = used[keys].astype("float64")
    p = d.spec.prim
    with warnings.catch_warnings():
        # EMA Workbench 3.0 calls DataFrame.drop(inplace=True), which pandas 3 deprecates.
        warnings.filterwarnings("ignore", message="The inplace keyword", module="ema_workbench")
        finder = prim.Prim(x, y, peel_alpha=p.peel_alpha, paste_alpha=p.paste_alpha,
                           mass_min=p.mass_min)
        box = finder.find_box()
    trajectory = box.peeling_trajectory[["id", "coverage", "density", "mass", "mean",
                                         "res_dim", "n", "k"]].copy()
    trajectory = trajectory.astype({"id": "int64", "res_dim": "int64", "n": "int64",
                                    "k": "int64", "coverage": "float64", "density": "float64",
                                    "mass": "float64", "mean": "float64"})
    for key in keys:
        trajectory[f"low:{key}"] = [float(lims[key].iloc[0]) for lims in box.box_lims]
        trajectory[f"high:{key}"] = [float(lims[key].iloc[1]) for lims in box.box_lims]
    dense = trajectory[trajectory["density"] >= p.threshold - 1e-12]
    if dense.empty:
        return trajectory, None, None
    best = dense.sort_values(["coverage", "res_dim", "id"], ascending=[False, True, True]
                             ).iloc[0]
    chosen = int(best["id"])
    rows = []
    qp = box.p_values[chosen]
    for key in keys:
        lo, hi = d.spec.uncertain[key]
        low, high = best[f"low:{key}"], best[f"high:{key}"]
        data_lo, data_hi = float(finder.box_init[key].iloc[0]), float(finder.box_init[key].iloc[1])
        q = qp.get(key, [-1, -1])
        rows.append({"box": chosen, "input": key, "low": low, "high": high,
                     "sampled_low": float(lo), "sampled_high": float(hi),
                     "restricted": bool(low > data_lo or high < data_hi),
                     "share_of_range": (high - low) / (data_hi - data_lo),
                     "qp_low": float(q[0]) if q[0] != -1 else math.nan,
                     "qp_high": float(q[1]) if q[1] != -1 else math.nan,
                     "coverage": float(best["coverage"]), "density": float(best["density"]),
                     "mass": float(best["mass"])})
    return trajectory, pd.DataFrame(rows), chosen


def _plot(trajectory: pd.DataFrame | None, chosen: int | None, threshold: float, path: Path,
          title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from abm.outputs import atomic_write

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    if trajectory is not None:
        dots = ax.scatter(trajectory["coverage"] * 100, trajectory["density"] * 100,
                          c=trajectory["res_dim"], cmap="viridis", s=22)
        fig.colorbar(dots, ax=ax, label="inputs restricted (count)")
        if chosen is not None:
            row = trajectory[trajectory["id"] == chosen].iloc[0]
            ax.scatter([row["coverage"] * 100], [row["density"] * 100], s=140,
                       facecolors="none", edgecolors="C3", linewidths=2, label="chosen box")
            ax.legend(fontsize=8, loc="lower left")
    else:
        ax.text(0.5, 0.5, "no point hits: no box", ha="center", va="center",
                transform=ax.transAxes)
    ax.axhline(threshold * 100, color="grey", lw=1, ls="--")
    ax.set_xlim(0, 102)
    ax.set_ylim(0, 102)
    ax.set_xlabel("coverage (% of hitting points inside the box)")
    ax.set_ylabel("density (% of the box's points that hit)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def report_text(d: Discovery, points: pd.DataFrame, boxes: pd.DataFrame | None,
                sweep_dir: Path) -> str:
    s, o = d.spec, d.spec.outcome
    used = points["hit"].notna()
    hits = int(points["hit"].fillna(False).sum())
    lines = [f"# Scenario discovery: {d.name}", "", f"**Outcome:** {o.label} "
             f"(`{o.rule()}`, mean over {s.replicates} replicate{'s' * (s.replicates > 1)} "
             "of each point).", "",
             f"**Sample:** {s.samples} Latin-hypercube points over {len(s.uncertain)} "
             f"uncertain inputs of `{d.scenario.name}` (seed {s.seed}); runs in "
             f"`{sweep_dir}`.", "", "| input | low | high |", "|---|---|---|"]
    lines += [f"| `{k}` | {lo:g} | {hi:g} |" for k, (lo, hi) in s.uncertain.items()]
    if s.set:
        lines += ["", "Fixed: " + ", ".join(f"`{k}={v}`" for k, v in s.set.items()) + "."]
    lines += ["", f"**Hits:** {hits} of {int(used.sum())} points "
              f"({100 * hits / max(int(used.sum()), 1):.1f}%)"
              + (f"; {int((~used).sum())} points had no outcome (a failed run or a zero "
                 "denominator) and are left out." if (~used).any() else "."), ""]
    if boxes is None:
        why = "no point hits" if hits == 0 else \
            f"no box on PRIM's peeling trajectory reaches density {s.prim.threshold:g}"
        lines += ["## Box", "", f"No box: {why}.", ""]
        return "\n".join(lines)
    first = boxes.iloc[0]
    lines += ["## Box", "",
              f"PRIM (peel_alpha {s.prim.peel_alpha:g}, density threshold "
              f"{s.prim.threshold:g}): box {int(first['box'])} of the peeling trajectory holds "
              f"{100 * first['coverage']:.1f}% of the hits (coverage) and "
              f"{100 * first['density']:.1f}% of its points hit (density); it holds "
              f"{100 * first['mass']:.1f}% of all points (mass).", "",
              "| input | box low | box high | sampled | restricted | quasi-p |",
              "|---|---|---|---|---|---|"]
    for _, r in boxes.iterrows():
        qps = [q for q in (r["qp_low"], r["qp_high"]) if not math.isnan(q)]
        lines.append(f"| `{r['input']}` | {_fmt(r['low'])} | {_fmt(r['high'])} | "
                     f"{r['sampled_low']:g} to {r['sampled_high']:g} | "
                     f"{'yes' if r['restricted'] else 'no'} | "
                     f"{_fmt(max(qps)) if qps else '-'} |")
    lines += ["", "Inputs not restricted do not decide the outcome within their ranges. "
              "tradeoff.png shows coverage against density along the peeling trajectory.", ""]
    return "\n".join(lines)


def discover(d: Discovery, out: Path | None, sweep_dir: Path | None, backend,
             echo=print, progress: bool = False) -> dict:
    """Run the sample through the sweep runner, score it, find the box, write the folder."""
    from abm import outputs
    from abm.experiment.runner import run_sweep
    from abm.experiment.sweepfile import load_sweep
    from abm.measures import computed

    out = outputs.check_folder(out or Path("runs") / f"discover-{d.name}-{d.hash()}", KIND)
    sweep_dir = sweep_dir or out.with_name(f"{out.name}-sweep")
    with tempfile.TemporaryDirectory(prefix="abm-discover-") as tmp:
        sweep_file = Path(tmp) / f"discover-{d.name}.yaml"
        sweep_file.write_text(yaml.safe_dump(d.sweep_doc(), sort_keys=False), encoding="utf-8")
        try:
            sweep = load_sweep(sweep_file, max_runs=d.spec.samples * d.spec.replicates)
        except ConfigError as exc:
            raise ConfigError(f"{d.path}: {str(exc).removeprefix(f'{sweep_file}: ')}") from None
        outcome = run_sweep(sweep, sweep_dir, backend, echo=echo, progress=progress,
                            measures=computed(d.measures))
    results = pd.read_parquet(outcome.out / "results.parquet")
    points = score(d, sweep, results)
    trajectory, boxes, chosen = find_box(d, points)
    with outputs.whole_folder(out, KIND) as folder:
        outputs.write_parquet(folder / "points.parquet", points)
        table = boxes if boxes is not None else pd.DataFrame(columns=[
            "box", "input", "low", "high", "sampled_low", "sampled_high", "restricted",
            "share_of_range", "qp_low", "qp_high", "coverage", "density", "mass"])
        outputs.atomic_write(folder / "boxes.csv", lambda p: table.to_csv(p, index=False))
        outputs.write_parquet(folder / "trajectory.parquet", trajectory if trajectory is not None
                      else pd.DataFrame({"id": pd.Series(dtype="int64")}))
        _plot(trajectory, chosen, d.spec.prim.threshold, folder / "tradeoff.png",
              f"{d.name}: {d.spec.outcome.label}")
        text = report_text(d, points, boxes, sweep_dir)
        outputs.write_text(folder / "report.md", text)
        info = outputs.manifest(d.base, outcome.wall_s)
        info.update({"kind": KIND, "spec": str(d.path), "scenario": str(d.scenario),
                     "seed": d.spec.seed, "samples": d.spec.samples,
                     "replicates": d.spec.replicates, "replicate_seeds": sweep.seeds,
                     "uncertain": d.spec.uncertain, "fixed": d.spec.set,
                     "outcome": d.spec.outcome.model_dump(mode="json"),
                     "prim": d.spec.prim.model_dump(mode="json"),
                     "sweep_folder": str(sweep_dir),
                     "points_used": int(points["hit"].notna().sum()),
                     "hits": int(points["hit"].fillna(False).sum()),
                     "box": None if boxes is None else int(chosen),
                     "runs_failed": outcome.failed})
        info["packages"]["ema_workbench"] = _version("ema_workbench")
        outputs.write_json(folder / "manifest.json", info)
    return {"out": out, "points": points, "boxes": boxes, "trajectory": trajectory,
            "report": text, "sweep": outcome}


def _version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def cmd_discover(args: argparse.Namespace) -> int:
    from abm.cli import backend_of

    d = load_spec(args.spec, args.samples, args.overrides, args.max_runs)
    engine = backend_of(args)
    echo = (lambda *a, **k: None) if args.quiet else print
    with engine:
        result = discover(d, Path(args.out) if args.out else None,
                          Path(args.sweep_out) if args.sweep_out else None, engine, echo,
                          progress=sys.stderr.isatty() and not args.quiet)
    if not args.quiet:
        print(result["report"])
        print(f"wrote {result['out']}: points.parquet, boxes.csv, trajectory.parquet, "
              "tradeoff.png, report.md, manifest.json")
    return 0


def register(sub) -> None:
    from abm.cli import add_backend_args, add_set_arg, positive_int
    from abm.experiment.sweepfile import MAX_RUNS

    p = sub.add_parser(
        "discover", help="which inputs make an outcome happen (PRIM over a sampled sweep)",
        description="Sample a scenario's uncertain inputs (Latin hypercube, through the sweep "
        "runner), score each point by the spec's outcome and find with PRIM (EMA Workbench) "
        "the box of inputs where it holds.")
    p.add_argument("spec", help="discovery spec YAML, or a shipped one's name "
                   "(`abm scenarios` lists them)")
    p.add_argument("--samples", type=positive_int, default=None, metavar="N",
                   help="Latin hypercube points (default: the spec's)")
    add_set_arg(p)
    p.add_argument("--out", help="output folder (default runs/discover-<name>-<hash>)")
    p.add_argument("--sweep-out", metavar="DIR",
                   help="where the runs are kept (default: the output folder's name + -sweep)")
    add_backend_args(p)
    p.add_argument("--max-runs", type=positive_int, default=MAX_RUNS, metavar="N",
                   help=f"refuse more runs (samples x replicates) than this (default "
                   f"{MAX_RUNS:,})")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(handler=cmd_discover)
