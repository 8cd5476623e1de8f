"""Guided lessons: a sequence of preset scenarios, each with a text and a question.

A lesson file (abm/configs/lessons/*.yaml) names, for each step, a scenario and the settings
that change. The app's lesson mode shows the steps beside the map; `abm lesson` runs each step
against its control over the lesson's replicate seeds and writes the lesson's page in
docs/lessons/ with the figures and intervals the runs gave.

A step is predict, run, reveal: it asks a question, offers the choices a student commits to
(``predict``), runs as a compare pair against its ``control`` over the lesson's replicate seeds
(abm.comparison), and reveals the figures with 95% intervals beside its ``reveal`` text. What
its texts say about the direction of a figure is written down in ``claims``, so a test can hold
every text to the figures the step produces. A ``debrief`` ends the lesson.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from abm import catalog, figures
from abm import config as cfg
from abm.comparison import DIRECTIONS, Pair, PairResult
from abm.config import Config, ConfigError
from abm.figures import mean_format

Direction = Literal["up", "down", "same"]  # abm.comparison.DIRECTIONS


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Control(Strict):
    """What a step is compared with: a scenario (default: the step's) and its settings."""

    label: str = Field(description="How the step names its control, e.g. 'no cameras'.")
    scenario: str | None = Field(None, description="Scenario file, relative to the lesson "
                                 "file; default the step's.")
    set: dict[str, Any] = Field(default_factory=dict, description="Settings changed.")


class Choice(Strict):
    """One answer a student can commit to: a direction of the step's figure against its
    control, or (a step without a control) a range the figure lands in."""

    label: str
    direction: Direction | None = None
    low: float | None = None
    high: float | None = None


class Prediction(Strict):
    figure: str = Field(description="Summary figure the prediction is about (a key of "
                        "summary.json, or a ratio such as 'crimes_reported / crimes_total').")
    choices: list[Choice] = Field(min_length=2)


class Step(Strict):
    title: str
    scenario: str = Field(description="Scenario file, relative to the lesson file, or the "
                          "name of a shipped scenario (teaching-town).")
    set: dict[str, Any] = Field(default_factory=dict, description="Settings changed.")
    text: str
    question: str
    control: Control | None = Field(None, description="The run this step is compared with; "
                                    "none for a step that shows a town on its own.")
    predict: Prediction | None = None
    claims: dict[str, Direction | list[float]] = Field(
        default_factory=dict, description="What the texts say each figure does against the "
        "control (up, down, same: the 95% interval of the difference), or the [low, high] "
        "range the step's mean lies in; tests/test_lesson_claims.py holds the texts to the "
        "runs.")
    reveal: str = Field("", description="The explanation shown with the figures.")
    show: list[str] = Field(default_factory=list, description="Figures the reveal shows "
                            "first (default: the lesson figures).")
    naive: bool = Field(False, description="Show beside the counterfactual what a before/after "
                        "count of recorded crime in the step's own run says (the vendor's kind "
                        "of figure): recorded crime per day after the cameras go live against "
                        "before.")

    @model_validator(mode="after")
    def _kinds_match(self) -> Step:
        paired = self.control is not None
        for choice in self.predict.choices if self.predict else []:
            if paired and (choice.direction is None or choice.low is not None
                           or choice.high is not None):
                raise ValueError(f"predict: choice {choice.label!r}: a step with a control "
                                 f"offers a direction ({', '.join(DIRECTIONS)})")
            if not paired and (choice.direction is not None or choice.low is None
                               or choice.high is None):
                raise ValueError(f"predict: choice {choice.label!r}: a step without a "
                                 "control offers a range (low, high)")
        for key, claim in self.claims.items():
            if isinstance(claim, str) and not paired:
                raise ValueError(f"claims: {key}: a step without a control claims a "
                                 "[low, high] range, not a direction")
            if not isinstance(claim, str) and (len(claim) != 2 or claim[0] > claim[1]):
                raise ValueError(f"claims: {key}: give [low, high]")
        return self


class Debrief(Strict):
    title: str = "Debrief"
    text: str


class Lesson(Strict):
    title: str
    summary: str
    steps: list[Step] = Field(min_length=1)
    debrief: Debrief | None = None
    replicates: int = Field(8, ge=2, le=50, description="Replicate seeds of each step's pair.")
    seed: int = Field(2024, ge=0, le=2**63 - 1, description="Root of the replicate seeds.")
    path: Path | None = None

    @property
    def name(self) -> str:
        return self.path.stem if self.path else "lesson"

    def _load(self, scenario: str, settings: dict[str, Any], index: int) -> Config:
        base = catalog.resolve(scenario, catalog.Kind.SCENARIO,
                               self.path.parent if self.path else Path.cwd())
        config = cfg.load(base).changed(settings, origin=str(base))
        config.run.name = cfg.folder_name(f"{self.name}-{index + 1}")
        return config

    def config(self, index: int) -> Config:
        """The validated settings of one step."""
        step = self.steps[index]
        return self._load(step.scenario, step.set, index)

    def control_config(self, index: int) -> Config | None:
        """The validated settings of one step's control (None for a step without one)."""
        step = self.steps[index]
        if step.control is None:
            return None
        control = self._load(step.control.scenario or step.scenario, step.control.set, index)
        control.run.name = f"{self.name}-{index + 1}-control"
        return control

    def pair(self, index: int) -> Pair:
        """The step against its control over the lesson's replicate seeds."""
        return Pair(self.control_config(index), self.config(index), self.replicates, self.seed)


def answer(step: Step, result: PairResult) -> int | None:
    """The choice the runs bear out: the direction of B - A, or the range B's mean is in."""
    if step.predict is None:
        return None
    figure = result.figure(step.predict.figure)
    for i, choice in enumerate(step.predict.choices):
        if choice.direction is not None and choice.direction == figure.direction:
            return i
        if choice.low is not None and choice.low <= figure.b[1] < choice.high:
            return i
    return None


def _yaml_scalar(value: Any) -> str:
    """A setting's value as a lesson page writes it (as YAML would)."""
    import yaml

    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def load(path: str | Path) -> Lesson:
    """A lesson file, or a shipped lesson by name, with every step checked."""
    path = catalog.resolve(path, catalog.Kind.LESSON)
    data = cfg.read_yaml(path)
    if not isinstance(data, dict):
        kind = "an empty file" if data is None else f"a {type(data).__name__}"
        raise ConfigError(f"{path}: expected a lesson (title, summary, steps), got {kind}")
    try:
        lesson = Lesson.model_validate({**data, "path": path.resolve()})
    except ValidationError as exc:
        err = exc.errors()[0]
        where, msg = ".".join(map(str, err["loc"])), cfg.problem(err)
        raise ConfigError(f"{path}: {where}: {msg}" if where else f"{path}: {msg}") from None
    for i in range(len(lesson.steps)):
        try:
            lesson.config(i)  # every step and its control must be a valid scenario
            pair = lesson.pair(i)
        except ConfigError as exc:
            if str(path) in str(exc):
                raise
            raise ConfigError(f"{path}: steps.{i}: {exc}") from None
        if "run.seed" in pair.changes():
            raise ConfigError(f"{path}: steps.{i}.control: a step and its control share "
                              "the seed (run.seed differs)")
    return lesson


def available() -> list[Path]:
    """The shipped lesson files."""
    return list(catalog.listing(catalog.Kind.LESSON).values())


# What a step's page shows when the step names no figures of its own.
SHOWN = ("crimes_total", "crimes_recorded", "crimes_coverage", "crimes_buffer", "arrests",
         "clearance_rate", "response_time_median_min", "camera_uptime",
         "perceived_camera_risk_final", "cost_total_usd")


def _fmt(key: str, value: float) -> str:
    return mean_format(key).format(value) if math.isfinite(value) else "n/a"


def _cell(key: str, stats: tuple[int, float, float, float]) -> str:
    n, mean, lo, hi = stats
    if n == 0 or not math.isfinite(mean):
        return "-"
    if n < 2 or not math.isfinite(lo):
        return _fmt(key, mean)
    return f"{_fmt(key, mean)} ({_fmt(key, lo)} to {_fmt(key, hi)})"


def shown(step: Step) -> list[str]:
    """The figures a step's page shows: its own list, its prediction and its claims."""
    keys = list(step.show or SHOWN)
    extra = ([step.predict.figure] if step.predict else []) + list(step.claims)
    return keys + [k for k in dict.fromkeys(extra) if k not in keys]


def run(lesson: Lesson, root: Path, workers: int | None = None,
        backend=None) -> list[PairResult]:
    """Each step against its control over the lesson's replicate seeds: the pairs the app
    and tests/test_lesson_claims.py run (read back from ``root`` when already there), on
    ``backend`` (default: ``workers`` local processes)."""
    from abm.comparison import run_pair

    return [run_pair(lesson.pair(i), root, workers, backend=backend)
            for i in range(len(lesson.steps))]


def markdown(lesson: Lesson, results: list[PairResult]) -> str:
    lines = [f"# {lesson.title}", "", lesson.summary.strip(), "",
             f"Generated by `abm lesson {lesson.name} --write docs/lessons/{lesson.name}.md`: "
             f"each step runs against its control over the lesson's {lesson.replicates} "
             f"replicate seeds (root {lesson.seed}), as the app's lesson mode runs it; figures "
             "are means with 95% intervals over the replicates, and the difference is taken "
             "seed by seed. Open the app's lesson mode to predict, watch and compare.", ""]
    for i, (step, result) in enumerate(zip(lesson.steps, results, strict=True), start=1):
        changes = ", ".join(f"`{k}={_yaml_scalar(v)}`" for k, v in step.set.items())
        lines += [f"## Step {i}: {step.title}", "", step.text.strip(), "",
                  f"Scenario: `{step.scenario}`" + (f" with {changes}" if changes else "")
                  + (f"; compared with {step.control.label}" if step.control else "") + ".", "",
                  f"**Question.** {step.question.strip()}", ""]
        if step.predict:
            lines += [f"**Predict** ({figures.label(step.predict.figure)}): " + "; ".join(
                c.label for c in step.predict.choices) + ".", ""]
        paired = step.control is not None
        head = ("| figure | " + (f"{step.control.label} | " if paired else "") + "this step | "
                + ("difference | direction |" if paired else ""))
        lines += [head, "|---|" + ("---|" * 4 if paired else "---|")]
        for key in shown(step):
            try:
                f = result.figure(key)
            except ConfigError:  # a figure this step's runs do not have
                continue
            row = f"| {figures.label(key)} | "
            if paired:
                row += f"{_cell(key, f.a)} | {_cell(key, f.b)} | {_cell(key, f.diff)} | " \
                       f"{f.direction} |"
            else:
                row += f"{_cell(key, f.b)} |"
            lines.append(row)
        lines.append("")
        chosen = answer(step, result)
        if step.predict:
            lines += ["**What the runs bear out:** " + (
                step.predict.choices[chosen].label if chosen is not None
                else "none of the choices") + ".", ""]
        if step.reveal.strip():
            lines += [step.reveal.strip(), ""]
    if lesson.debrief:
        lines += [f"## {lesson.debrief.title}", "", lesson.debrief.text.strip(), ""]
    return "\n".join(lines)


def cmd_lesson(args: argparse.Namespace) -> int:
    from abm.cli import backend_of
    from abm.outputs import check_writable, write_text

    if args.name is None:
        for path in available():
            print(f"{path.stem}: {load(path).title}")
        return 0
    lesson = load(args.name)
    if args.write:
        check_writable(args.write, "--write")  # before running every step, not after
    if args.pairs.exists() and not args.pairs.is_dir():
        raise ConfigError(f"--pairs {args.pairs}: exists and is not a folder")
    results = run(lesson, args.pairs, backend=backend_of(args))  # entered pair by pair
    text = markdown(lesson, results)
    if args.write:
        try:
            write_text(args.write, text)
        except OSError as exc:
            raise ConfigError(f"--write {args.write}: cannot write ({exc.strerror or exc})") \
                from None
        print(f"wrote {args.write}")
    else:
        print(text)
    return 0


def register(sub) -> None:
    from abm.cli import add_backend_args

    p = sub.add_parser("lesson", help="list lessons, or run one and write its page")

    p.add_argument("name", nargs="?", help="a shipped lesson's name (abm scenarios lists "
                   "them) or a lesson file")
    p.add_argument("--pairs", type=Path, default=Path("runs") / "app-pairs", metavar="DIR",
                   help="where the steps' pair runs are kept and read back (default "
                   "runs/app-pairs, the app's)")
    add_backend_args(p)
    p.add_argument("--write", type=Path, metavar="FILE", help="write the markdown page here")
    p.set_defaults(handler=cmd_lesson)
