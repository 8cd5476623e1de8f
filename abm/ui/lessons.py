"""Lesson mode: a guided lesson's steps beside the map, each step a preset scenario.

A lesson file (configs/lessons/*.yaml, read by ``abm.lessons``) names for each step a scenario,
the settings it changes, a text and a question. Choosing a step loads its settings as if the
user had picked a scenario: the panel shows them, the run restarts at day 0, and any setting can
still be changed to try an answer out. `abm lesson` runs the same steps over several seeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import solara

from abm import lessons
from abm.config import ConfigError
from abm.lessons import Lesson
from abm.ui.explore import LiveCharts, LiveSummary, MapBeside
from abm.ui.state import AppState


@dataclass(frozen=True)
class Entry:
    """One lesson file: its lesson, or the one-line reason it cannot be read."""

    path: Path
    lesson: Lesson | None = None
    error: str = ""

    @property
    def title(self) -> str:
        return self.lesson.title if self.lesson else f"{self.path.name} (cannot be read)"


def shelf() -> list[Entry]:
    """Every lesson file, read once; a broken one is kept so choosing it says what is wrong."""
    entries = []
    for path in lessons.available():
        try:
            entries.append(Entry(path, lessons.load(path)))
        except ConfigError as exc:
            entries.append(Entry(path, error=str(exc)))
    return entries


def step_label(lesson: Lesson, index: int) -> str:
    """What the scenario picker shows while a step is loaded."""
    return f"{lesson.name} lesson, step {index + 1}"


def where(entries: list[Entry], label: str | None) -> tuple[int, int, bool]:
    """(lesson, step, already loaded): the step whose label is on screen, so coming back to
    lesson mode keeps the step and its run; otherwise the first step of the first good lesson."""
    for e, entry in enumerate(entries):
        if entry.lesson is not None:
            for i in range(len(entry.lesson.steps)):
                if step_label(entry.lesson, i) == label:
                    return e, i, True
    good = [e for e, entry in enumerate(entries) if entry.lesson is not None]
    return (good[0] if good else 0), 0, False


def open_step(state: AppState, entry: Entry, index: int) -> None:
    """Load one step's settings into the app; a broken lesson is a message instead."""
    if entry.lesson is None:
        state.report(entry.error)
        return
    try:
        config = entry.lesson.config(index)
    except ConfigError as exc:  # the scenario file changed since the lesson was read
        state.report(str(exc))
        return
    state.load(config, step_label(entry.lesson, index))


@solara.component
def LessonPanel(entries: list[Entry], chosen: int, index: int,
                on_lesson: Callable[[int], None], on_step: Callable[[int], None]) -> None:
    """The lesson picker and summary, previous / next, and the step's text and question."""
    entry = entries[chosen]
    titles = [e.title for e in entries]
    with solara.Column(gap="6px", classes=["abm-lesson"]):
        solara.Select(label="Lesson", values=titles, value=entry.title,
                      on_value=lambda title: on_lesson(titles.index(title)))
        lesson = entry.lesson
        if lesson is None:
            solara.Warning("This lesson file cannot be read: the message above says why.")
            return
        solara.Text(lesson.summary.strip(), classes=["abm-lesson-summary"],
                    style={"font-size": "0.9em"})
        last = len(lesson.steps) - 1
        with solara.Row(style={"align-items": "center"}):
            solara.Button("Previous", icon_name="mdi-chevron-left", small=True,
                          disabled=index <= 0, on_click=lambda: on_step(index - 1),
                          classes=["abm-lesson-previous"])
            solara.Text(f"Step {index + 1} of {last + 1}", classes=["abm-lesson-step"])
            solara.Button("Next", icon_name="mdi-chevron-right", small=True,
                          disabled=index >= last, on_click=lambda: on_step(index + 1),
                          classes=["abm-lesson-next"])
        step = lesson.steps[index]
        solara.Text(step.title, classes=["abm-lesson-title"],
                    style={"font-size": "1.15em", "font-weight": "bold"})
        solara.Text(step.text.strip(), classes=["abm-lesson-text"])
        with (solara.Card(margin=0, style={"background": "#f4f5f7"}),
              solara.Column(gap="2px")):
            solara.Text("Question", style={"font-weight": "bold"})
            solara.Text(step.question.strip(), classes=["abm-lesson-question"])


@solara.component
def LessonView(state: AppState) -> None:
    """The lesson beside the map and the live figures; the live charts below, as in Explore."""
    entries = solara.use_memo(shelf, dependencies=[])
    start = solara.use_memo(lambda: where(entries, state.scenario.value), dependencies=[])
    place, set_place = solara.use_state(start[:2])

    def go(chosen: int, index: int) -> None:
        set_place((chosen, index))
        open_step(state, entries[chosen], index)

    def enter():
        if entries and not start[2]:
            go(*start[:2])

    solara.use_effect(enter, dependencies=[])
    if not entries:
        solara.Info("No lessons: add lesson files to configs/lessons/.")
        return
    chosen, index = place
    with MapBeside(state):
        LessonPanel(entries, chosen, index, on_lesson=lambda e: go(e, 0),
                    on_step=lambda i: go(chosen, i))
        LiveSummary(state)
    LiveCharts(state)
