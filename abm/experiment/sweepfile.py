"""Sweep files: parsing, validation, and the list of runs a sweep makes.

Every setting a sweep file names is applied to the base scenario with ``Config.changed`` and
validated with it, for every design point, before any run starts: a bad key or value is a
one-line error naming the sweep file and the key.

Seeds: replicate r of every design point runs with ``run.seed`` = the r-th seed spawned from
the sweep's root seed (see seeds.py). The street network stays the same across replicates:
``city.seed`` is the base scenario's city seed (its ``city.seed``, else its ``run.seed``), so
each replicate is the same city with other people and events. A sweep may vary or fix
``city.seed`` itself, or set ``vary_city: true`` to draw a new city per replicate
(``city.seed`` = replicate seed).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from abm import catalog
from abm import config as cfg
from abm.config import NAME, NAME_RULE, Config, ConfigError, shown
from abm.experiment import design as designs
from abm.experiment.design import Design, Point, Spec
from abm.experiment.seeds import design_seed, replicate_seeds

# A sweep of more runs than this is refused before anything is built (points x replicates);
# `abm sweep --max-runs N` (or ``load_sweep(..., max_runs=N)``) raises the limit.
MAX_RUNS = 20_000
RESERVED = {"run.seed": "replicate seeds come from the sweep's `seed`; remove this key"}


class SweepSpec(Spec):
    """The sweep file as written."""

    name: str | None = None
    description: str | None = None
    base: str
    set: dict[str, Any] = {}
    design: Design
    replicates: int = Field(1, ge=1, le=100_000)
    seed: int = Field(ge=0, le=2**63 - 1)
    baseline: dict[str, Any] | None = None
    vary_city: bool = False


@dataclass(frozen=True)
class Run:
    """One simulation: a design point at one replicate seed."""

    point: Point
    replicate: int
    seed: int
    config: Config

    @property
    def id(self) -> str:
        return f"p{self.point.index:04d}-r{self.replicate:03d}"

    @cached_property
    def config_hash(self) -> str:
        return self.config.hash()


@dataclass
class Sweep:
    """A validated sweep: its points, seeds, runs and baseline references."""

    path: Path
    name: str
    spec: SweepSpec
    base: Config
    keys: list[str]  # the settings the design varies (columns of the results)
    points: list[Point]
    values: list[dict[str, Any]]  # effective value of each varied key at each point
    references: list[int | None]  # baseline point of each point (None: no baseline)
    seeds: list[int]
    runs: list[Run]


def _location(loc: tuple) -> str:
    parts = []
    for i, p in enumerate(loc):
        if i == 1 and loc[0] == "design" and p in {"grid", "list", "lhs", "sobol", "morris"}:
            continue  # pydantic names the union member; the file does not
        if isinstance(p, int):
            parts.append(f"[{p}]")
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts)


def parse(data: Any, path: Path) -> SweepSpec:
    """Validate the structure of a sweep file (not yet the settings it names)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping (name, base, design, ...), got "
                          f"{type(data).__name__}")
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where, msg = _location(err["loc"]), cfg.problem(err)
        raise ConfigError(f"{path}: {where}: {msg}" if where else f"{path}: {msg}") from None
    if spec.name is not None and not NAME.match(spec.name):
        raise ConfigError(f"{path}: name: {NAME_RULE} (got {shown(spec.name)})")
    return spec


def check_size(spec: SweepSpec, path: Path, max_runs: int) -> int:
    """Count the runs (points x replicates) before building any; refuse above ``max_runs``."""
    points = spec.design.size()
    runs = points * spec.replicates
    if runs > max_runs:
        raise ConfigError(f"{path}: design: {points:,} points x {spec.replicates:,} replicates "
                          f"= {runs:,} runs, above the limit of {max_runs:,} (--max-runs "
                          f"{runs} runs them anyway)")
    return runs


class Builder:
    """Applies a sweep file's settings to the base scenario, naming the sweep file in errors."""

    def __init__(self, path: Path, base: Config, vary_city: bool) -> None:
        self.path = path
        self.base = base
        self.vary_city = vary_city

    def check_key(self, key: str, where: str) -> None:
        if key in RESERVED:
            raise ConfigError(f"{self.path}: {where}{key}: {RESERVED[key]}")
        if self.vary_city and key == "city.seed":
            raise ConfigError(f"{self.path}: {where}{key}: vary_city draws the city seed per "
                              "replicate; remove one of them")
        try:
            cfg.setting(key)
        except ConfigError as exc:
            raise ConfigError(f"{self.path}: {where}{exc}") from None

    def config(self, settings: dict[str, Any], origin: str, where: str) -> Config:
        """The base with ``settings`` applied; a bad key names ``where`` (the part of the file
        that holds it), a bad value or combination names ``origin``."""
        for key in settings:
            self.check_key(key, where)
        config = self.base.changed(cfg.beside(self.path.parent, settings),
                                   origin=f"{self.path}: {origin}")
        graph = config.city.file
        if graph and not Path(graph).exists():
            raise ConfigError(f"{self.path}: {origin}: city.file: no such graph file "
                              f"{graph}")
        return config


def _baseline_references(spec: SweepSpec, builder: Builder, keys: list[str],
                         points: list[Point], values: list[dict]) -> list[int | None]:
    """For each point, the point it is compared with: the same settings with the baseline's
    values in place of its own (e.g. the same uptime without cameras); failing that, the one
    point matching the baseline."""
    if spec.baseline is None:
        return [None] * len(points)
    wanted = dict(spec.baseline)
    if "label" in wanted:
        label = wanted.pop("label")
        if wanted:
            raise ConfigError(f"{builder.path}: baseline: give either a label or settings")
        matches = [p.index for p in points if p.label == label]
        if not matches:
            raise ConfigError(f"{builder.path}: baseline.label: no design point is labelled "
                              f"{label!r}")
        return [matches[0]] * len(points)
    for key in wanted:
        if key not in keys:
            builder.check_key(key, "baseline.")
            raise ConfigError(f"{builder.path}: baseline.{key}: not varied by the design")
    resolved = builder.config({**spec.set, **wanted}, "baseline", "baseline.")
    target = {k: resolved.get(k) for k in wanted}
    matching = [i for i, v in enumerate(values) if all(v[k] == target[k] for k in target)]
    if not matching:
        shown = ", ".join(f"{k}={v}" for k, v in target.items())
        raise ConfigError(f"{builder.path}: baseline: no design point has {shown}")
    index = {}
    for i, v in enumerate(values):
        index.setdefault(tuple(v[k] for k in keys), i)
    refs = []
    for v in values:
        twin = index.get(tuple(target.get(k, v[k]) for k in keys))
        refs.append(twin if twin is not None else matching[0] if len(matching) == 1 else None)
    return refs


def load_sweep(path: str | Path, max_runs: int = MAX_RUNS) -> Sweep:
    """Read and validate a sweep file (or a shipped sweep by name) and every run it makes."""
    path = catalog.resolve(path, catalog.Kind.SWEEP)
    spec = parse(cfg.read_yaml(path), path)
    check_size(spec, path, max_runs)
    name = spec.name or path.stem
    if not NAME.match(name):
        raise ConfigError(f"{path}: name: {NAME_RULE} (got {shown(name)})")
    try:
        base = cfg.load(catalog.resolve(spec.base, catalog.Kind.SCENARIO, path.parent))
    except ConfigError as exc:
        raise ConfigError(f"{path}: base: {exc}") from None
    named = {"run.name": name}
    if not spec.vary_city and base.city.seed is None:
        named["city.seed"] = base.run.seed  # one city for every replicate
    builder = Builder(path, base.changed(named, origin=f"{path}: base"), spec.vary_city)
    builder.config(spec.set, "set", "set.")

    design = spec.design
    if isinstance(design, designs.SampledDesign):
        for key, rng in design.parameters.items():
            for end in ("min", "max"):
                value = rng.value(getattr(rng, end))
                builder.config({**spec.set, key: value}, f"design.parameters.{key}.{end}",
                               "design.parameters.")
    try:
        points = designs.build(design, design_seed(spec.seed))
    except (ValueError, ZeroDivisionError) as exc:
        raise ConfigError(f"{path}: design: cannot sample ({exc})") from None

    keys: list[str] = []
    configs = []
    for point in points:
        where = (f"design.points[{point.index}].set." if isinstance(design, designs.ListDesign)
                 else "design.parameters.")
        configs.append(builder.config({**spec.set, **point.values}, f"point {point.label!r}",
                                      where))
        keys.extend(k for k in point.values if k not in keys)
    values = [{k: c.get(k) for k in keys} for c in configs]
    references = _baseline_references(spec, builder, keys, points, values)

    seeds = replicate_seeds(spec.seed, spec.replicates)
    runs = []
    for point, config in zip(points, configs, strict=True):
        for r, seed in enumerate(seeds):
            drawn = {"run.seed": seed, **({"city.seed": seed} if spec.vary_city else {})}
            runs.append(Run(point, r, seed, config.changed(drawn, origin=f"{path}: seed")))
    return Sweep(path, name, spec, base, keys, points, values, references, seeds, runs)
