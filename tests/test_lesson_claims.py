"""Every shipped lesson's texts against the figures its steps produce.

Each step runs as the app runs it: the step against its control over the lesson's replicate
seeds (abm.comparison, through the sweep runner). Every claim a step's text makes - a direction
of a figure against the control, or a range its mean lies in - must hold over those replicates:
a test fails where a text says what the model does not do.
"""

import math

import pytest

from abm import lessons
from abm.comparison import agrees, run_pair

CASES = [(path, i, key) for path in lessons.available()
         for i, step in enumerate(lessons.load(path).steps) for key in step.claims]


@pytest.fixture(scope="module")
def results(pair_cache):
    cache = {}

    def result(path, index):
        if (path, index) not in cache:
            cache[path, index] = run_pair(lessons.load(path).pair(index), pair_cache)
        return cache[path, index]

    return result


def test_every_lesson_makes_claims_a_test_can_check():
    for path in lessons.available():
        lesson = lessons.load(path)
        assert lesson.debrief is not None and lesson.debrief.text.strip()
        assert any(step.claims for step in lesson.steps), path.stem
        for step in lesson.steps:
            assert step.predict is not None, step.title


@pytest.mark.parametrize(("path", "index", "key"), CASES,
                         ids=[f"{p.stem}-{i + 1}-{k}" for p, i, k in CASES])
def test_step_text_agrees_with_its_figures(results, path, index, key):
    lesson = lessons.load(path)
    step = lesson.steps[index]
    result = results(path, index)
    assert result.failed == 0
    figure = result.figure(key)
    claim = step.claims[key]
    n, mean, lo, hi = figure.diff if isinstance(claim, str) else figure.b
    assert n == lesson.replicates
    said = (f"step {index + 1} ({step.title!r}) says {key} is {claim}; over {n} replicates "
            f"the {'difference' if isinstance(claim, str) else 'mean'} is {mean:.3g} "
            f"(95% interval {lo:.3g} to {hi:.3g})")
    assert math.isfinite(mean), said
    assert agrees(result, key, claim), said


@pytest.mark.parametrize("path", lessons.available(), ids=lambda p: p.stem)
def test_each_step_has_an_answer_the_runs_bear_out(results, path):
    """Every prediction's choices cover what the runs can give: one choice is borne out."""
    lesson = lessons.load(path)
    for i, step in enumerate(lesson.steps):
        assert lessons.answer(step, results(path, i)) is not None, step.title
