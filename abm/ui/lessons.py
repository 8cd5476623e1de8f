"""Lesson mode: predict, run, reveal, step by step, and a debrief at the end.

A lesson file (abm/configs/lessons/*.yaml, read by ``abm.lessons``) gives each step a scenario, the
settings it changes, a text, a question, the choices a student commits to and the control it is
compared with. A step opens with its question; once the student commits a prediction the step
runs: the live pair (the step and its control, one frame a day) plays on the map while the
replicates (abm.comparison: the pair over the lesson's seeds) run in the background. When they
are done the step reveals its figures with 95% intervals, which choice the runs bear out, and
the lesson's explanation. The debrief puts every prediction beside what the runs gave.

Settings can still be changed during a step to try an answer out; the reveal stays that of the
step as written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path

import solara

from abm import lessons
from abm.comparison import PairResult, read_pair
from abm.config import ConfigError
from abm.figures import label as label_of
from abm.lessons import Lesson
from abm.ui.explore import LiveCharts, MapBeside
from abm.ui.state import AppState
from abm.ui.summary import with_interval
from abm.ui.uncertainty import COMPARE_FIGURES, IntervalFigures, Progress
from abm.units import MINUTES_PER_DAY

DEBRIEF = -1  # the step index of a lesson's debrief
LESSON_STEP_MIN = MINUTES_PER_DAY  # a lesson plays one frame a day: a year in about a minute


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
    """Load one step's settings and its control into the app; a broken lesson is a message."""
    if entry.lesson is None:
        state.report(entry.error)
        return
    try:
        config = entry.lesson.config(index)
        control = entry.lesson.control_config(index)
    except ConfigError as exc:  # the scenario file changed since the lesson was read
        state.report(str(exc))
        return
    state.pause()
    scenario = entry.lesson.steps[index].scenario
    state.load(config, step_label(entry.lesson, index), control, place=Path(scenario).stem,
               source=entry.path.parent / scenario)
    state.lesson_step.set((entry.lesson.name, index))
    state.step_min.set(LESSON_STEP_MIN)


def open_named(state: AppState, name: str, index: int) -> None:
    """Open a lesson step by the lesson's name (a shared link); anything else is a message."""
    for entry in shelf():
        if entry.lesson is not None and entry.lesson.name == name:
            if not 0 <= index < len(entry.lesson.steps):
                state.report(f"link: step: {name} has {len(entry.lesson.steps)} steps")
                return
            open_step(state, entry, index)
            return
    state.report(f"link: lesson: {str(name)[:40]!r} is not one of the lessons")


def before_after(rows: list[dict], install_day: float) -> tuple[float, int] | None:
    """Recorded crime per day after go-live against before, in one run's daily rows, as a
    percentage change (and the last day counted); None without days on both sides."""
    before = [r["crimes_recorded"] for r in rows if r["day"] <= install_day]
    after = [r["crimes_recorded"] for r in rows if r["day"] > install_day]
    if not before or not after or sum(before) == 0:
        return None
    change = (sum(after) / len(after)) / (sum(before) / len(before)) - 1.0
    return 100.0 * change, int(rows[-1]["day"])


def naive_text(state: AppState, lesson: Lesson, index: int, result: PairResult) -> str:
    """The before/after figure of the run on the map beside the counterfactual effect."""
    run = state.runs[-1] if state.runs else None
    if run is None:
        return ""
    config = run.config
    figure = result.figure("crimes_total")
    n, mean, lo, hi = figure.diff
    base = figure.a[1]
    with state.lock:
        naive = before_after(run.daily_rows(), config.cameras.install_day)
    if naive is None:
        said = ("A before/after count needs days before and after the cameras go live "
                f"(day {config.cameras.install_day:g}); this run has not got both yet.")
    else:
        change, day = naive
        said = (f"A before/after count of recorded crime in the run on the map (one history, "
                f"to day {day}) says: {change:+.0f}% a day after the cameras went live.")
    if n and base:
        said += (f" Against its control over {n} seeds, the step changed true crime by "
                 f"{100 * mean / base:+.0f}% ({100 * lo / base:+.0f}% to "
                 f"{100 * hi / base:+.0f}%).")
    return said


def prediction_key(lesson: Lesson, index: int) -> str:
    return f"{lesson.name}#{index}"


def answer_text(lesson: Lesson, index: int, result: PairResult) -> str:
    """What the runs gave for the step's prediction figure, in one sentence."""
    step = lesson.steps[index]
    if step.predict is None:
        return ""
    key = step.predict.figure
    figure = result.figure(key)
    pattern = "{:.1%}" if "/" in key or "rate" in key or "uptime" in key else "{:,.1f}"
    n = result.pair.replicates
    chosen = lessons.answer(step, result)
    verdict = step.predict.choices[chosen].label if chosen is not None else "none of the choices"
    if step.control is None:
        return (f"Over {n} seeds, {label_of(key).lower()} was "
                f"{with_interval(figure.b, pattern)}: {verdict.lower()}.")
    return (f"Over {n} seeds, {label_of(key).lower()} changed by "
            f"{with_interval(figure.diff, pattern, signed=True)} against "
            f"{step.control.label}: {verdict.lower()}.")


@solara.component
def Choices(step, chosen: int | None, committed: bool,
            on_choose: Callable[[int], None]) -> None:
    """The prediction's choices as radio buttons (locked once committed)."""
    labels = [c.label for c in step.predict.choices]

    def choose(value):
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(labels):
            on_choose(value)

    solara.v.RadioGroup(
        v_model=chosen, on_v_model=choose, dense=True, hide_details=True,
        disabled=committed, class_="abm-lesson-choices", mandatory=False,
        children=[solara.v.Radio(label=label, value=i, class_=f"abm-lesson-choice-{i}")
                  for i, label in enumerate(labels)])


@solara.component
def StepPanel(state: AppState, lesson: Lesson, index: int, predictions: dict,
              on_predict: Callable[[int, int | None], None]) -> None:
    step = lesson.steps[index]
    key = prediction_key(lesson, index)
    committed = key in predictions
    draft, set_draft = solara.use_state(None, key=f"draft-{key}")
    chosen = predictions.get(key, draft)
    solara.Text(step.title, classes=["abm-lesson-title"],
                style={"font-size": "1.15em", "font-weight": "bold"})
    solara.Text(step.text.strip(), classes=["abm-lesson-text"])
    if step.control is not None:
        solara.Text(f"Run against: {step.control.label} (same town, same people, same "
                    "seeds).", classes=["abm-lesson-control"],
                    style={"font-size": "0.85em", "color": "#444"})
    with (solara.Card(margin=0, style={"background": "#f4f5f7"}),
          solara.Column(gap="4px")):
        solara.Text("Question", style={"font-weight": "bold"})
        solara.Text(step.question.strip(), classes=["abm-lesson-question"])
        if step.predict is not None:
            solara.Text("Your prediction:" if committed else "What do you predict?",
                        style={"font-weight": "bold", "margin-top": "4px"})
            Choices(step, chosen, committed, set_draft)
            if not committed:
                solara.Button("Commit and run", icon_name="mdi-play", color="primary",
                              disabled=chosen is None, classes=["abm-lesson-commit"],
                              on_click=lambda: on_predict(index, chosen))
        elif not committed:
            solara.Button("Run this step", icon_name="mdi-play", color="primary",
                          classes=["abm-lesson-commit"],
                          on_click=lambda: on_predict(index, None))


@solara.component
def Reveal(state: AppState, lesson: Lesson, index: int, result: PairResult,
           predictions: dict) -> None:
    """What the runs gave: the answer, the lesson's explanation, the figures with intervals."""
    state.frame.value  # noqa: B018 - subscribe: a before/after figure follows the run
    step = lesson.steps[index]
    chosen = predictions.get(prediction_key(lesson, index))
    right = lessons.answer(step, result)
    with solara.Card("What the runs gave", margin=0, classes=["abm-lesson-reveal"]):
        if step.predict is not None:
            with solara.Div():
                solara.Text(answer_text(lesson, index, result), classes=["abm-lesson-answer"],
                            style={"font-weight": "bold"})
            if chosen is not None:
                mine = step.predict.choices[chosen].label
                verdict = ("the runs bear it out." if chosen == right
                           else "the runs say otherwise.")
                with solara.Div():
                    solara.Text(f"You predicted: {mine.lower()} - {verdict}",
                                classes=["abm-lesson-verdict"])
        if step.naive and step.control is not None:
            with solara.Div():
                solara.Text(naive_text(state, lesson, index, result),
                            classes=["abm-lesson-naive"])
        if step.reveal.strip():
            with solara.Div(classes=["abm-lesson-explanation"]):
                solara.Markdown(step.reveal.strip())
        keys = list(dict.fromkeys(
            [*step.show, *([step.predict.figure] if step.predict else []), *COMPARE_FIGURES]))
        names = (step.control.label if step.control else "control", step.title)
        IntervalFigures(result, keys, ("A: " + names[0], "B: " + names[1]),
                        tag=f"{lesson.name}-{index + 1}")


@solara.component
def Debrief(state: AppState, lesson: Lesson, predictions: dict) -> None:
    """Every step's prediction beside what its runs gave, and the lesson's closing text."""
    root = state.replicates.root
    rows = []
    for i, step in enumerate(lesson.steps):
        result = read_pair(lesson.pair(i), root)
        chosen = predictions.get(prediction_key(lesson, i))
        mine = (step.predict.choices[chosen].label if step.predict and chosen is not None
                else "-")
        if result is None:
            gave, match = "not run yet", ""
        else:
            right = lessons.answer(step, result)
            gave = answer_text(lesson, i, result) or "-"
            match = "" if chosen is None else ("yes" if chosen == right else "no")
        rows.append((f"{i + 1}. {step.title}", mine, gave, match))
    debrief = lesson.debrief
    with solara.Column(gap="6px", classes=["abm-lesson-debrief"]):
        solara.Text(debrief.title if debrief else "Debrief",
                    style={"font-size": "1.15em", "font-weight": "bold"})
        if debrief is not None:
            solara.Text(debrief.text.strip(), classes=["abm-lesson-debrief-text"])
        html = ["<table class='abm-figures abm-debrief'><thead><tr><th>step</th>"
                "<th>you predicted</th><th>what the runs gave</th><th>borne out</th>"
                "</tr></thead><tbody>"]
        for cells in rows:
            html.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
        html.append("</tbody></table>")
        solara.HTML(tag="div", unsafe_innerHTML="".join(html))
        done = sum(1 for r in rows if r[3] == "yes")
        judged = sum(1 for r in rows if r[3])
        if judged:
            solara.Text(f"{done} of {judged} predictions borne out.",
                        classes=["abm-lesson-score"])


@solara.component
def LessonPanel(state: AppState, entries: list[Entry], chosen: int, index: int,
                predictions: dict, on_lesson: Callable[[int], None],
                on_step: Callable[[int], None],
                on_predict: Callable[[int, int | None], None]) -> None:
    """The lesson picker and summary, previous / next, and the step (or the debrief)."""
    entry = entries[chosen]
    titles = [e.title for e in entries]

    def pick(title):
        if title in titles:
            on_lesson(titles.index(title))
        else:
            state.report("lesson: choose one of the listed lessons")

    with solara.Column(gap="6px", classes=["abm-lesson"]):
        solara.Select(label="Lesson", values=titles, value=entry.title, on_value=pick)
        lesson = entry.lesson
        if lesson is None:
            solara.Warning("This lesson file cannot be read: the message above says why.")
            return
        solara.Text(lesson.summary.strip(), classes=["abm-lesson-summary"],
                    style={"font-size": "0.9em"})
        last = len(lesson.steps) - 1
        debrief = index == DEBRIEF
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Button("Previous", icon_name="mdi-chevron-left", small=True,
                          disabled=index == 0,
                          on_click=lambda: on_step(last if debrief else index - 1),
                          classes=["abm-lesson-previous"])
            solara.Text("Debrief" if debrief else f"Step {index + 1} of {last + 1}",
                        classes=["abm-lesson-step"])
            if index == last:
                solara.Button("Debrief", icon_name="mdi-flag-checkered", small=True,
                              on_click=lambda: on_step(DEBRIEF),
                              classes=["abm-lesson-to-debrief"])
            else:
                solara.Button("Next", icon_name="mdi-chevron-right", small=True,
                              disabled=debrief, on_click=lambda: on_step(index + 1),
                              classes=["abm-lesson-next"])
        if debrief:
            Debrief(state, lesson, predictions)
        else:
            StepPanel(state, lesson, index, predictions, on_predict)


def use_step_result(state: AppState, lesson: Lesson | None, index: int,
                    committed: bool) -> PairResult | None:
    """The step's replicates: started once the prediction is committed, the result once done."""
    pair = lesson.pair(index) if lesson is not None and index != DEBRIEF else None
    name = pair.name if pair is not None else None

    def start():
        if pair is not None and committed:
            state.replicates.start(pair)

    solara.use_effect(start, dependencies=[name, committed])
    result = state.replicates.result.value
    return result if result is not None and name is not None and \
        result.pair.name == name else None


@solara.component
def LessonView(state: AppState) -> None:
    """The lesson beside the map; the reveal and the step's live charts below."""
    entries = solara.use_memo(shelf, dependencies=[])
    start = solara.use_memo(lambda: where(entries, state.scenario.value), dependencies=[])
    place, set_place = solara.use_state(start[:2])
    predictions = state.predictions.value

    def go(chosen: int, index: int) -> None:
        set_place((chosen, index))
        if index != DEBRIEF:
            open_step(state, entries[chosen], index)
        else:
            state.pause()

    def predict(index: int, choice: int | None) -> None:
        chosen, _ = place
        lesson = entries[chosen].lesson
        if lesson is None or not 0 <= index < len(lesson.steps):
            return
        step = lesson.steps[index]
        if step.predict is not None and (
                not isinstance(choice, int) or not 0 <= choice < len(step.predict.choices)):
            state.report("lesson: choose one of the step's predictions first")
            return
        state.predictions.set({**state.predictions.value,
                               prediction_key(lesson, index): choice})
        state.step_min.set(LESSON_STEP_MIN)
        state.play()

    def enter():
        if entries and not start[2]:
            go(*start[:2])

    solara.use_effect(enter, dependencies=[])
    chosen, index = place
    lesson = entries[chosen].lesson if entries else None
    committed = (lesson is not None and index != DEBRIEF
                 and prediction_key(lesson, index) in predictions)
    result = use_step_result(state, lesson, index, committed)
    if not entries:
        solara.Info("No lessons: add lesson files to abm/configs/lessons/.")
        return
    shown = len(state.runs) - 1  # the step's own run (after its control)
    with MapBeside(state, index=max(shown, 0)):
        LessonPanel(state, entries, chosen, index, predictions,
                    on_lesson=lambda e: go(e, 0), on_step=lambda i: go(chosen, i),
                    on_predict=predict)
        if committed:
            RunPanel(state, lesson, index, result)
    if committed and result is not None:
        Reveal(state, lesson, index, result, predictions)
    if index != DEBRIEF:
        LiveCharts(state, max(shown, 0))


@solara.component
def RunPanel(state: AppState, lesson: Lesson, index: int, result: PairResult | None) -> None:
    """While a step runs: the live pair's clock controls and the replicates' progress."""
    state.frame.value  # noqa: B018 - subscribe: follows the live pair
    run = state.run
    with solara.Column(gap="4px", classes=["abm-lesson-run"]):
        if run is not None and not run.finished:
            solara.Button("Run to end", icon_name="mdi-fast-forward", small=True,
                          on_click=state.run_to_end, classes=["abm-run-to-end"],
                          disabled=state.fast.value)
        if result is None:
            Progress(state.replicates, f"Running the step {lesson.replicates} times")
        n = lesson.replicates
        solara.Text(f"The map shows one history of the step (seed {run.config.run.seed if run
                    else '-'}); the figures come from {n} more.", style={"font-size": "0.8em",
                                                                           "color": "#555"})
