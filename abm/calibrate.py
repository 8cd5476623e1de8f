"""`abm calibrate SPEC.yaml`: fit chosen parameters to observed targets with optuna.

Each batch of trials optuna proposes is a list-design sweep run by the sweep runner
(abm.experiment), so evaluations use its workers or Dask cluster and its resumable store: the
batch folders under ``OUT/batches/`` keep every finished run. Trials are asked and told in a
fixed order from a seeded sampler, so running the same spec into the same folder proposes the
same trials again, finds their runs finished, and goes on where it stopped.

The loss of a trial is the mean over targets of ``weight * ((simulated - value) / sd)^2``, the
simulated figure being the mean over the trial's replicates (common random numbers: every trial
runs on the same replicate seeds). Targets are summary figures or the measures of
abm.measures (crimes by period, recorded crimes by period, concentration).

Spec::

    name: recover-rate              # output folder runs/<name>/ (default: the file's stem)
    base: default                   # a shipped scenario, or a file relative to the spec
    set: {run.days: 30}             # fixed for every run
    parameters:                     # key -> range; log: sample on a log scale
      offenders.opportunity_rate: {min: 1.0e-4, max: 2.0e-3, log: true}
      police.units: {min: 2, max: 12, type: int}
    targets:                        # figure -> observed value, its sd (scale), weight
      crimes_total: {value: 250, sd: 25}
      share_top:5: {value: 0.4, sd: 0.05}
    trials: 40
    batch: 8                        # trials per sweep (run in parallel)
    replicates: 2
    seed: 1
    sampler: tpe                    # tpe (default) or random
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import Field, ValidationError, model_validator

from abm import catalog
from abm import config as cfg
from abm.config import ConfigError
from abm.experiment.design import Spec

# The summary figures a target may name beyond abm.measures: those of a tiny run.
PROBE = {"run.days": 0.05, "city.nodes": 16, "offenders.count": 1, "police.units": 0,
         "cameras.count": 0, "city.destinations": 2}


class Parameter(Spec):
    min: float
    max: float
    type: Literal["float", "int"] = "float"
    log: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Parameter:
        if not (math.isfinite(self.min) and math.isfinite(self.max)) or not self.min < self.max:
            raise ValueError("min must be a finite number below max")
        if self.log and self.min <= 0:
            raise ValueError("a log range must be above 0")
        if self.type == "int" and not (self.min.is_integer() and self.max.is_integer()):
            raise ValueError("min and max of an int parameter must be whole numbers")
        return self


class Target(Spec):
    value: float
    sd: float | None = Field(None, gt=0)
    weight: float = Field(1.0, gt=0)

    @property
    def scale(self) -> float:
        return self.sd if self.sd is not None else (abs(self.value) or 1.0)


class CalibrationSpec(Spec):
    name: str | None = None
    description: str | None = None
    base: str
    set: dict[str, Any] = {}
    parameters: dict[str, Parameter] = Field(min_length=1)
    targets: dict[str, Target] = Field(min_length=1)
    trials: int = Field(40, ge=1, le=10_000)
    batch: int = Field(8, ge=1, le=1000)
    replicates: int = Field(2, ge=1, le=1000)
    seed: int = Field(ge=0, le=2**32 - 1)
    sampler: Literal["tpe", "random"] = "tpe"


def load_spec(path: Path) -> tuple[CalibrationSpec, str]:
    """Read and check a spec: structure, every parameter at its ends, every target's name."""
    from abm.config import NAME, NAME_RULE, shown
    from abm.measures import parse

    data = cfg.read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping (base, parameters, targets, ...)")
    try:
        spec = CalibrationSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where, msg = ".".join(str(p) for p in err["loc"]), cfg.problem(err)
        raise ConfigError(f"{path}: {where}: {msg}" if where else f"{path}: {msg}") from None
    name = spec.name or path.stem
    if not NAME.match(name):
        raise ConfigError(f"{path}: name: {NAME_RULE} (got {shown(name)})")
    try:
        base = cfg.load(catalog.resolve(spec.base, catalog.Kind.SCENARIO, path.parent))
    except ConfigError as exc:
        raise ConfigError(f"{path}: base: {exc}") from None
    for where, keys in (("set", spec.set), ("parameters", spec.parameters)):
        for key in keys:
            try:
                cfg.setting(key)
            except ConfigError as exc:
                raise ConfigError(f"{path}: {where}.{exc}") from None
    for key, p in spec.parameters.items():
        for end in (p.min, p.max):
            value = int(end) if p.type == "int" else end
            try:
                base.changed({**spec.set, key: value}, origin=f"parameters.{key}")
            except ConfigError as exc:
                raise ConfigError(f"{path}: {exc}") from None
    from abm.simulate import simulate

    known = set(simulate(cfg.Config().changed(PROBE)).summary)
    for key in spec.targets:
        try:
            computed = parse(key) is not None
        except ConfigError as exc:
            raise ConfigError(f"{path}: targets.{exc}") from None
        if not computed and key not in known:
            raise ConfigError(f"{path}: targets.{key}: not a summary figure or measure")
    return spec, name


def _sampler(spec: CalibrationSpec):
    import optuna

    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=spec.seed)
    return optuna.samplers.TPESampler(seed=spec.seed)


def _distributions(spec: CalibrationSpec) -> dict:
    import optuna.distributions as d

    return {k: (d.IntDistribution(int(p.min), int(p.max), log=p.log) if p.type == "int"
                else d.FloatDistribution(p.min, p.max, log=p.log))
            for k, p in spec.parameters.items()}


def _sweep_file(spec: CalibrationSpec, spec_path: Path, folder: Path, index: int,
                trials: list) -> Path:
    """A list-design sweep of one batch of trials, written beside its results."""
    from abm.outputs import write_text

    fixed = cfg.beside(spec_path.parent, spec.set)  # the batch sweeps live elsewhere
    doc = {"name": f"batch-{index:03d}",
           "base": str(catalog.resolve(spec.base, catalog.Kind.SCENARIO, spec_path.parent)
                       .resolve()), "set": fixed,
           "design": {"kind": "list", "points": [{"label": f"trial {t.number}",
                                                  "set": dict(t.params)} for t in trials]},
           "replicates": spec.replicates, "seed": spec.seed}
    path = folder / f"batch-{index:03d}.yaml"
    write_text(path, yaml.safe_dump(doc, sort_keys=False))
    return path


def loss(spec: CalibrationSpec, simulated: dict[str, float]) -> float:
    terms = [t.weight * ((simulated[k] - t.value) / t.scale) ** 2
             for k, t in spec.targets.items()]
    return float(np.mean(terms))


def calibrate(spec_path: Path, out: Path | None, backend, echo=print) -> dict:
    """Run the calibration; write trials, fit, plot, best config and manifest into ``out``."""
    import optuna

    from abm.experiment.runner import run_sweep
    from abm.experiment.sweepfile import load_sweep
    from abm.measures import computed

    spec, name = load_spec(spec_path)
    out = out or Path("runs") / name
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a folder")
    batches = out / "batches"
    batches.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=_sampler(spec))
    dists = _distributions(spec)
    targets = list(spec.targets)
    rows = []
    sweeps = []
    for index in range(math.ceil(spec.trials / spec.batch)):
        count = min(spec.batch, spec.trials - index * spec.batch)
        trials = [study.ask(dists) for _ in range(count)]
        sweep = load_sweep(_sweep_file(spec, spec_path, batches, index, trials))
        sweeps.append(sweep)
        outcome = run_sweep(sweep, batches / f"batch-{index:03d}", backend,
                            echo=lambda *a, **k: None, measures=computed(targets))
        results = pd.read_parquet(outcome.out / "results.parquet")
        for point, trial in enumerate(trials):
            mine = results[(results["point"] == point) & (results["status"] == "ok")]
            if len(mine) < spec.replicates or mine[targets].isna().any().any():
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                rows.append({"trial": trial.number, "batch": index, **trial.params,
                             "loss": math.nan})
                continue
            simulated = {k: float(mine[k].mean()) for k in targets}
            value = loss(spec, simulated)
            study.tell(trial, value)
            rows.append({"trial": trial.number, "batch": index, **trial.params,
                         **simulated, "loss": value})
        done = [r["loss"] for r in rows if not math.isnan(r["loss"])]
        echo(f"batch {index}: {len(rows)} trials, best loss "
             f"{min(done) if done else math.nan:.4g} ({outcome.ran} runs now, "
             f"{outcome.skipped} already done)")
    table = pd.DataFrame(rows)
    if table["loss"].isna().all():
        raise ConfigError(f"{spec_path}: every trial failed (see {batches})")
    best = study.best_trial
    sweep = sweeps[best.number // spec.batch]
    first = next(r for r in sweep.runs
                 if r.point.index == best.number % spec.batch and r.replicate == 0)
    return _write(spec, spec_path, name, out, table, sweep.seeds, best, first.config)


def _fit(spec: CalibrationSpec, out: Path, best) -> pd.DataFrame:
    from abm.experiment.stats import interval

    batch = out / "batches" / f"batch-{best.number // spec.batch:03d}" / "results.parquet"
    results = pd.read_parquet(batch)
    mine = results[results["point"] == best.number % spec.batch]
    rows = []
    for key, t in spec.targets.items():
        n, m, lo, hi = interval(mine[key].to_numpy(float))
        if n < 2:  # one replicate: no interval, the value itself
            lo = hi = m
        rows.append({"target": key, "observed": t.value, "sd": t.scale, "weight": t.weight,
                     "simulated": m, "lo": lo, "hi": hi,
                     "error_sd": (m - t.value) / t.scale})
    return pd.DataFrame(rows)


def _write(spec, spec_path: Path, name: str, out: Path, table: pd.DataFrame, seeds: list[int],
           best, config) -> dict:
    """Trials, fit, plot, manifest, and ``config`` (the best trial's first run) as best.yaml."""
    from abm.outputs import atomic_write, manifest, write_json, write_parquet, write_text

    fit = _fit(spec, out, best)
    write_parquet(out / "trials.parquet", table)
    atomic_write(out / "trials.csv", lambda p: table.to_csv(p, index=False))
    atomic_write(out / "fit.csv", lambda p: fit.to_csv(p, index=False))
    base = cfg.load(catalog.resolve(spec.base, catalog.Kind.SCENARIO, spec_path.parent))
    config = config.model_copy(deep=True)
    config.run.name = f"{name}-best"
    write_text(out / "best.yaml",
               f"# Best fit of {spec_path.name} (trial {best.number}, loss {best.value:.6g}): "
               f"`abm run` on it repeats that trial's first replicate; the others ran with "
               f"run.seed {', '.join(map(str, seeds[1:])) or '(none)'}.\n" + config.to_yaml())
    _plot(table, fit, out / "calibration.png", name)
    data = manifest(base)
    data.update({"kind": "calibration", "spec": str(spec_path), "seed": spec.seed,
                 "sampler": spec.sampler, "trials": len(table), "replicate_seeds": seeds,
                 "best_trial": best.number, "best_loss": best.value,
                 "best_parameters": best.params})
    write_json(out / "manifest.json", data)
    return {"best": best.params, "loss": best.value, "fit": fit, "trials": table, "out": out}


def _plot(table: pd.DataFrame, fit: pd.DataFrame, path: Path, name: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from abm.outputs import atomic_write

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    ok = table.dropna(subset=["loss"])
    axes[0].scatter(ok["trial"], ok["loss"], s=12, alpha=0.6, label="trial")
    axes[0].plot(ok["trial"], ok["loss"].cummin(), color="C1", label="best so far")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("trial")
    axes[0].set_ylabel("loss (mean squared error in sds)")
    axes[0].legend(fontsize=8)
    y = np.arange(len(fit))
    axes[1].errorbar(fit["error_sd"], y, xerr=[(fit["simulated"] - fit["lo"]) / fit["sd"],
                                               (fit["hi"] - fit["simulated"]) / fit["sd"]],
                     fmt="o", capsize=4)
    axes[1].axvline(0, color="grey", lw=1)
    axes[1].set_yticks(y, fit["target"])
    axes[1].set_xlabel("best fit minus observed, in sds (95% interval over replicates)")
    fig.suptitle(f"{name}: calibration", fontsize=10)
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from abm.cli import backend_of

    engine = backend_of(args)
    echo = (lambda *a, **k: None) if args.quiet else print
    with engine:
        result = calibrate(Path(args.spec), Path(args.out) if args.out else None, engine, echo)
    if not args.quiet:
        print(f"best (loss {result['loss']:.4g}): " + ", ".join(
            f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in result["best"].items()))
        print(result["fit"].to_string(index=False, float_format=lambda x: f"{x:.4g}"))
        print(f"wrote {result['out']}: trials.csv, fit.csv, calibration.png, best.yaml",
              file=sys.stdout)
    return 0


def register(sub) -> None:
    from abm.cli import add_backend_args

    p = sub.add_parser(
        "calibrate", help="fit parameters to observed targets (optuna over the sweep runner)",
        description="Fit the spec's parameters to its targets with optuna; evaluations run "
        "through the sweep runner (workers, Dask, resume).")
    p.add_argument("spec", help="calibration spec YAML (see abm/calibrate.py)")
    p.add_argument("--out", help="output folder (default runs/<name>)")
    add_backend_args(p)
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(handler=cmd_calibrate)
