"""Designs: which settings each design point of a sweep applies.

- grid: every combination of listed values (the last parameter varies fastest);
- list: explicit, labelled scenarios;
- lhs, sobol, morris: points sampled in ranges through SALib (Latin hypercube; Saltelli's
  scheme for Sobol indices, N*(2D+2) points; Morris trajectories, N*(D+1) points).

Whole-number (``type: int``) parameters are sampled on [min, max + 1) and rounded down, so
every whole value is equally likely; the unrounded sample is kept for the sensitivity analysis.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Spec(BaseModel):
    """Strict part of a sweep file: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Point:
    """One design point: its place in the design, a label and the settings it applies."""

    index: int
    label: str
    values: dict[str, Any]
    sample: dict[str, float] = field(default_factory=dict)  # unrounded sampled values


def short_names(keys: list[str]) -> dict[str, str]:
    """``cameras.count`` -> ``count`` where the last part is unambiguous (for labels)."""
    last = [k.rsplit(".", 1)[-1] for k in keys]
    return {k: s if last.count(s) == 1 else k for k, s in zip(keys, last, strict=True)}


def _show(value: Any) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


class GridDesign(Spec):
    kind: Literal["grid"]
    parameters: dict[str, Annotated[list[Any], Field(min_length=1)]] = Field(min_length=1)

    @field_validator("parameters")
    @classmethod
    def _scalars(cls, parameters: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in parameters.items():
            for i, value in enumerate(values):
                if not _is_scalar(value):
                    raise ValueError(f"{key}[{i}]: grid values are single numbers, words, true "
                                     f"or false (got a {type(value).__name__}); use a list "
                                     "design for settings such as cameras.nodes")
        return parameters

    def size(self) -> int:
        """The number of points, counted before any is built."""
        return math.prod(len(values) for values in self.parameters.values())

    def expand(self, seed: int) -> list[Point]:
        keys = list(self.parameters)
        short = short_names(keys)
        points = []
        for i, combo in enumerate(itertools.product(*self.parameters.values())):
            values = dict(zip(keys, combo, strict=True))
            label = ", ".join(f"{short[k]}={_show(v)}" for k, v in values.items())
            points.append(Point(i, label, values))
        return points


class ListPoint(Spec):
    label: str | None = None
    set: dict[str, Any] = {}


class ListDesign(Spec):
    kind: Literal["list"]
    points: list[ListPoint] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_labels(self) -> ListDesign:
        labels = [p.label for p in self.points if p.label is not None]
        twice = sorted({x for x in labels if labels.count(x) > 1})
        if twice:
            raise ValueError(f"point labels must be unique ({twice[0]!r} repeats)")
        return self

    def size(self) -> int:
        return len(self.points)

    def expand(self, seed: int) -> list[Point]:
        return [Point(i, p.label if p.label is not None else f"point {i}", dict(p.set))
                for i, p in enumerate(self.points)]


class Range(Spec):
    min: float
    max: float
    type: Literal["int", "float"] = "float"

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not (math.isfinite(self.min) and math.isfinite(self.max)):
            raise ValueError("min and max must be finite numbers")
        if not self.min < self.max:
            raise ValueError("min must be below max")
        if self.type == "int" and not (self.min.is_integer() and self.max.is_integer()):
            raise ValueError("min and max of an int parameter must be whole numbers")
        return self

    def bounds(self) -> list[float]:
        return [self.min, self.max + 1 if self.type == "int" else self.max]

    def value(self, x: float) -> int | float:
        if self.type == "int":
            return int(min(math.floor(x), self.max))
        return float(x)


class SampledDesign(Spec):
    parameters: dict[str, Range] = Field(min_length=1)
    samples: int = Field(ge=1, le=1_000_000)

    def problem(self) -> dict:
        """The SALib problem definition (int parameters on [min, max + 1))."""
        return {"num_vars": len(self.parameters), "names": list(self.parameters),
                "bounds": [r.bounds() for r in self.parameters.values()]}

    def matrix(self, seed: int) -> np.ndarray:
        raise NotImplementedError

    def size(self) -> int:
        """Rows of the sampled matrix, counted before sampling."""
        return self.samples

    def expand(self, seed: int) -> list[Point]:
        keys = list(self.parameters)
        points = []
        for i, row in enumerate(self.matrix(seed)):
            raw = {k: float(x) for k, x in zip(keys, row, strict=True)}
            values = {k: self.parameters[k].value(x) for k, x in raw.items()}
            points.append(Point(i, f"{self.kind} {i}", values, raw))
        return points


class LhsDesign(SampledDesign):
    kind: Literal["lhs"]

    def matrix(self, seed: int) -> np.ndarray:
        from SALib.sample import latin

        return latin.sample(self.problem(), self.samples, seed=seed)


class SobolDesign(SampledDesign):
    """Saltelli's scheme: ``samples`` base samples (a power of 2) give N*(2D+2) points."""

    kind: Literal["sobol"]
    second_order: bool = True

    @field_validator("samples")
    @classmethod
    def _power_of_two(cls, samples: int) -> int:
        if samples & (samples - 1):
            raise ValueError("must be a power of 2 for Sobol designs")
        return samples

    def size(self) -> int:
        d = len(self.parameters)
        return self.samples * (2 * d + 2 if self.second_order else d + 2)

    def matrix(self, seed: int) -> np.ndarray:
        from SALib.sample import sobol

        return sobol.sample(self.problem(), self.samples, calc_second_order=self.second_order,
                            seed=seed)


class MorrisDesign(SampledDesign):
    """``samples`` trajectories of D+1 points on a grid of ``levels`` levels."""

    kind: Literal["morris"]
    levels: int = Field(4, ge=2, le=100)

    @field_validator("levels")
    @classmethod
    def _even_levels(cls, levels: int) -> int:
        if levels % 2:
            raise ValueError("must be even")
        return levels

    def size(self) -> int:
        return self.samples * (len(self.parameters) + 1)

    def matrix(self, seed: int) -> np.ndarray:
        from SALib.sample import morris

        return morris.sample(self.problem(), self.samples, num_levels=self.levels, seed=seed)


Design = Annotated[GridDesign | ListDesign | LhsDesign | SobolDesign | MorrisDesign,
                   Field(discriminator="kind")]


def build(design: Any, seed: int) -> list[Point]:
    """The points of a design; ``seed`` drives the sampled designs only."""
    return design.expand(seed)
