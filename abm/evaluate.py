"""Honest evaluation of a camera programme: counterfactual twins against naive before/after.

For each replicate seed the scenario runs beside twins that share its seed, city and people:
one with no cameras installed (the counterfactual) and, optionally, one whose cameras always work
and are always watched. The paired difference is the cameras' causal effect. The same runs also
give the figures an analyst without a twin would compute - a before/after change and a
difference-in-differences against unwatched areas - so a user can see how far they mislead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from abm.cameras import Zone
from abm.config import NEVER_FAILING, Config, ConfigError
from abm.experiment.backends import Fork, Task
from abm.experiment.seeds import replicate_seeds
from abm.experiment.stats import interval
from abm.measures import Crimes, Measure, Uptime
from abm.units import DAYS_PER_YEAR

TWINS = ("no-cameras", "working")
# Times of day the effects are also read in (hours of the day, from and up to).
TIMES_OF_DAY = {"night": (0, 6), "morning": (6, 12), "afternoon": (12, 18), "evening": (18, 24)}


@dataclass(frozen=True)
class Period:
    """A stretch of days, labelled relative to installation."""

    label: str
    start: float
    end: float

    @property
    def days(self) -> float:
        return self.end - self.start


def periods(config: Config) -> list[Period]:
    """'before' (up to a year before go-live), then each year after it (the last may be part)."""
    install, end = config.cameras.install_day, config.run.days
    out = []
    if install > 0:
        out.append(Period("before", max(0.0, install - DAYS_PER_YEAR), min(install, end)))
    k, start = 1, install
    while start < end:
        stop = min(start + DAYS_PER_YEAR, end)
        if stop - start >= 30 or not out:
            out.append(Period(f"year {k}", start, stop))
        k, start = k + 1, stop
    return out


def twin_config(config: Config, twin: str) -> Config:
    """The scenario's twin: same seed, city and people; cameras absent or flawless."""
    if twin == "no-cameras":
        changes = {"cameras.install_day": min(3650.0, config.run.days + 1),
                   "timeline": [c for c in config.timeline if not c.cameras_only]}
    elif twin == "working":
        # Cameras that always work make no news of broken ones.
        timeline = [c.model_copy(update={"news": None, "set": {
            k: v for k, v in c.set.items() if not k.startswith("cameras.")}})
            for c in config.timeline]
        changes = {"cameras.repair": True, **{f"cameras.{k}": v for k, v in NEVER_FAILING.items()},
                   "cameras.operators": math.ceil(config.cameras.count
                                                  / config.cameras.feeds_per_operator),
                   "timeline": [c for c in timeline if c.set]}
    else:
        raise ConfigError(f"unknown twin {twin!r}; choose from {', '.join(TWINS)}")
    return config.changed({**changes, "run.name": f"{config.run.name}-{twin}"})


def period_measures(p: Period) -> dict[str, Measure]:
    """What a run's counts table holds for one period, by column: crimes true and recorded,
    arrests and camera uptime, then crimes true and recorded in each zone."""
    columns: dict[str, Measure] = {
        "true": Crimes(p.start, p.end), "recorded": Crimes(p.start, p.end, "recorded"),
        "arrests": Crimes(p.start, p.end, "arrested"), "camera_uptime": Uptime(p.start, p.end)}
    for zone in Zone:
        columns[f"true_{zone.label}"] = Crimes(p.start, p.end, zone=zone)
        columns[f"recorded_{zone.label}"] = Crimes(p.start, p.end, "recorded", zone)
    for band, hours in TIMES_OF_DAY.items():
        columns[f"true_{band}"] = Crimes(p.start, p.end, hours=hours)
    return columns


@dataclass(frozen=True)
class Job:
    """One variant of the scenario at one replicate seed, read over some periods."""

    variant: str
    replicate: int
    seed: int
    config: Config
    spans: list[Period]

    @property
    def run_id(self) -> str:
        return f"{self.variant} r{self.replicate}"

    @property
    def measures(self) -> tuple[Measure, ...]:
        return tuple(dict.fromkeys(m for p in self.spans for m in period_measures(p).values()))

    def task(self, forks: list[Job] = (), whole: bool = True, part: int = 0) -> Task:
        """The run as a task; ``forks`` run forked from it when the cameras go live (unless
        ``whole``, the run itself stops there: part ``part`` of its forks)."""
        return Task(self.run_id if whole else f"{self.run_id} part {part}",
                    self.config.model_dump(mode="json"), self.measures,
                    tuple(Fork(f.run_id, f.config.model_dump(mode="json"), f.measures)
                          for f in forks), self.config.cameras.install_day, whole)

    def rows(self, outcome: dict) -> list[dict]:
        """The run reduced to counts per period and zone (its measures, as columns)."""
        values = outcome["measures"]
        rows = []
        for p in self.spans:
            row = {"variant": self.variant, "replicate": self.replicate, "seed": self.seed,
                   "period": p.label, "period_days": p.days}
            for column, measure in period_measures(p).items():
                value = values[measure.name]
                row[column] = int(value) if isinstance(measure, Crimes) else value  # counts
            rows.append(row)
        return rows

    def summary(self, outcome: dict) -> dict:
        return {"variant": self.variant, "replicate": self.replicate, "seed": self.seed,
                **outcome["summary"]}


def mean_ci(values: pd.Series | np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% t-interval (NaN interval with fewer than two values)."""
    return interval(values)[1:]


def _pct(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a / b.replace(0, np.nan) - 1.0) * 100.0


@dataclass
class Evaluation:
    """All tables of an evaluation."""

    config: Config
    counts: pd.DataFrame  # one row per variant x replicate x period
    summaries: pd.DataFrame  # one row per run
    effects: pd.DataFrame
    naive: pd.DataFrame
    did: pd.DataFrame
    zones: pd.DataFrame
    costs: pd.DataFrame
    hours: pd.DataFrame  # the causal effect on true crime by time of day
    decomposition: pd.DataFrame | None = None  # see abm.decompose
    mechanisms: list[str] | None = None  # the scenario's mechanisms (decomposed)


def decomposition_periods(config: Config, end: str | None) -> tuple[str, str]:
    """The periods a decomposition compares: the year before go-live and ``end`` (default:
    the third year after it, or the last there is)."""
    labels = [p.label for p in periods(config)]
    if "before" not in labels:
        raise ConfigError("--decompose needs a year before go-live (cameras.install_day > 0)")
    after = [label for label in labels if label != "before"]
    end = end or ("year 3" if "year 3" in after else after[-1])
    if end not in after:
        raise ConfigError(f"--decompose-to {end!r}: choose from {', '.join(after)}")
    return "before", end


def tasks(jobs: list[Job], forked: set[str], fork: bool,
          parts: int = 1) -> tuple[list[Task], dict]:
    """The jobs as tasks: with ``fork``, the variants named in ``forked`` run forked from
    the scenario's run of their replicate when the cameras go live, where a fork can start
    them (abm.simulate.forks_on), so the days before go-live run once per task. A replicate's
    forks are shared out over up to ``parts`` tasks (each runs the days before go-live), so
    that a few replicates still keep every worker busy. Returns the tasks and, for each job's
    run, the task it is part of."""
    from abm.simulate import forks_on

    scenario = {job.replicate: job for job in jobs if job.variant == "scenario"}
    children: dict[int, list[Job]] = {r: [] for r in scenario}
    alone = []
    for job in jobs:
        if job.variant == "scenario":
            continue
        base = scenario[job.replicate]
        if fork and job.variant in forked and forks_on(
                base.config, job.config, base.config.cameras.install_day):
            children[job.replicate].append(job)
        else:
            alone.append(job)
    out, part_of = [], {}
    for r, base in scenario.items():
        share = [children[r][k::parts] for k in range(min(parts, max(1, len(children[r]))))]
        for k, forks in enumerate(share):
            task = base.task(forks, whole=k == 0, part=k)
            out.append(task)
            part_of.update({job.run_id: task.run_id for job in forks})
        part_of[base.run_id] = base.run_id
    out += [job.task() for job in alone]
    part_of.update({job.run_id: job.run_id for job in alone})
    return out, part_of


def evaluate(config: Config, replicates: int = 5, twins: tuple[str, ...] = TWINS,
             workers: int | None = None, progress: bool = False, decompose: bool = False,
             decompose_to: str | None = None, backend=None, fork: bool = True) -> Evaluation:
    """Run the scenario and its twins for each replicate seed and compute every table; with
    ``decompose``, also one variant per mechanism switched off (abm.decompose). The runs go
    to ``backend`` (abm.experiment.backends; default ``workers`` local processes). With
    ``fork``, the twins and the mechanisms that act only once cameras are live run forked from
    the scenario's run at go-live (the same results, bit for bit: tests/test_fork.py)."""
    from abm import decompose as dec
    from abm.experiment.backends import LocalBackend
    from abm.experiment.runner import run_all

    if replicates < 1:
        raise ConfigError("--replicates must be at least 1")
    variants = {"scenario": config, **{t: twin_config(config, t) for t in twins}}
    present: list[str] = []
    if decompose:
        start, end = decomposition_periods(config, decompose_to)
        extra, present = dec.variants(config)
        variants.update(extra)
    spans = {name: periods(config) for name in variants}
    if decompose:
        # A mechanism's variant is only read over the two periods compared, so it stops at
        # the end of the later one; days before a run's end do not depend on its length.
        compared = [p for p in periods(config) if p.label in (start, end)]
        spans.update(dict.fromkeys(extra, compared))
    jobs = []
    for r, seed in enumerate(replicate_seeds(config.run.seed, replicates)):
        for name, variant in variants.items():
            changes = {"run.seed": seed, "run.days": min(variant.run.days, spans[name][-1].end)}
            if variant.city.seed is None:
                changes["city.seed"] = config.run.seed  # one city across replicates
            jobs.append(Job(name, r, seed, variant.changed(changes), spans[name]))
    forked = {*twins, *(dec.after_go_live(config) if decompose else ())}
    engine = backend or LocalBackend(workers)
    parts = math.ceil(getattr(engine, "workers", 1) / replicates)
    planned, part_of = tasks(jobs, forked, fork, parts)
    done = dict(zip((t.run_id for t in planned),
                    run_all(planned, engine, config.run.name, progress), strict=True))

    def outcome(job: Job) -> dict:
        whole = done[part_of[job.run_id]]
        return whole if part_of[job.run_id] == job.run_id else whole["forks"][job.run_id]

    outcomes = [outcome(job) for job in jobs]
    counts = pd.DataFrame([row for job, out in zip(jobs, outcomes, strict=True)
                           for row in job.rows(out)])
    summaries = pd.DataFrame([job.summary(out) for job, out in zip(jobs, outcomes, strict=True)])
    mine = ["scenario", *twins]
    ev = Evaluation(config, counts, summaries,
                    *_analyse(config, counts[counts["variant"].isin(mine)],
                              summaries[summaries["variant"].isin(mine)]))
    if decompose:
        ev.decomposition = dec.table(counts, present, start, end)
        ev.mechanisms = present
    return ev


def _analyse(config: Config, counts: pd.DataFrame, summaries: pd.DataFrame):
    order = [p.label for p in periods(config)]
    after = [p for p in order if p != "before"]
    wide = counts.pivot_table(index=["replicate", "period"], columns="variant",
                              values=[c for c in counts.columns if c.startswith(("true",
                                                                                 "recorded"))])
    effects, zones, hours = [], [], []
    twins = [v for v in counts["variant"].unique() if v != "scenario"]
    for twin in twins:
        for period in order:
            sub = wide.xs(period, level="period")
            for measure in ("true", "recorded"):
                diff = _pct(sub[(measure, "scenario")], sub[(measure, twin)])
                m, lo, hi = mean_ci(diff)
                effects.append({"twin": twin, "period": period, "measure": measure,
                                "scenario_per_year": _rate(sub[(measure, "scenario")], counts,
                                                           period),
                                "twin_per_year": _rate(sub[(measure, twin)], counts, period),
                                "change_pct": m, "ci_low": lo, "ci_high": hi})
            for name in (zone.label for zone in Zone):
                diff = _pct(sub[(f"true_{name}", "scenario")], sub[(f"true_{name}", twin)])
                m, lo, hi = mean_ci(diff)
                zones.append({"twin": twin, "period": period, "zone": name, "change_pct": m,
                              "ci_low": lo, "ci_high": hi})
            for band in TIMES_OF_DAY:
                diff = _pct(sub[(f"true_{band}", "scenario")], sub[(f"true_{band}", twin)])
                m, lo, hi = mean_ci(diff)
                hours.append({"twin": twin, "period": period, "time_of_day": band,
                              "change_pct": m, "ci_low": lo, "ci_high": hi})
    scen = wide.xs("scenario", level="variant", axis=1)
    naive, did = [], []
    if "before" in order:
        pre = scen.xs("before", level="period")
        days = counts.groupby("period")["period_days"].first()
        for period in after:
            post = scen.xs(period, level="period")
            scale = days["before"] / days[period]
            for measure in ("recorded", "true"):
                change = _pct(post[measure] * scale, pre[measure])
                m, lo, hi = mean_ci(change)
                naive.append({"period": period, "measure": measure, "change_pct": m,
                              "ci_low": lo, "ci_high": hi})
                treated = post[f"{measure}_coverage"] / pre[f"{measure}_coverage"].replace(
                    0, np.nan)
                control = post[f"{measure}_elsewhere"] / pre[f"{measure}_elsewhere"].replace(
                    0, np.nan)
                estimate = (treated / control - 1.0) * 100.0
                m, lo, hi = mean_ci(estimate)
                row = {"period": period, "measure": measure, "did_pct": m, "ci_low": lo,
                       "ci_high": hi}
                if "no-cameras" in twins:
                    sub = wide.xs(period, level="period")
                    causal = _pct(sub[(f"{measure}_coverage", "scenario")],
                                  sub[(f"{measure}_coverage", "no-cameras")])
                    row["causal_coverage_pct"] = mean_ci(causal)[0]
                    row["gap_points"] = mean_ci(estimate - causal)[0]
                did.append(row)
    costs = _costs(config, counts, summaries, after) if "no-cameras" in twins else pd.DataFrame()
    return (pd.DataFrame(effects), pd.DataFrame(naive), pd.DataFrame(did), pd.DataFrame(zones),
            costs, pd.DataFrame(hours))


def _rate(values: pd.Series, counts: pd.DataFrame, period: str) -> float:
    days = counts.loc[counts["period"] == period, "period_days"].iloc[0]
    return float(values.mean() / days * DAYS_PER_YEAR)


def _costs(config, counts, summaries, after) -> pd.DataFrame:
    """Cost per crime prevented after go-live, scenario against the no-camera twin."""
    post = counts[counts["period"].isin(after)].groupby(["variant", "replicate"])[
        ["true", "recorded"]].sum()
    cost = summaries.set_index(["variant", "replicate"])["cost_total_usd"]
    rows = []
    for variant in [v for v in counts["variant"].unique() if v != "no-cameras"]:
        prevented = post.xs("no-cameras")["true"] - post.xs(variant)["true"]
        extra = cost.xs(variant) - cost.xs("no-cameras")
        pm, plo, phi = mean_ci(prevented)
        cm = float(extra.mean())
        per = cm / pm if pm > 0 else math.inf
        rows.append({"variant": variant, "crimes_prevented": pm, "prevented_ci_low": plo,
                     "prevented_ci_high": phi, "extra_cost_usd": cm,
                     "cost_per_crime_prevented_usd": per,
                     "reduction_detectable": bool(np.isfinite(plo) and plo > 0)})
    return pd.DataFrame(rows)
