"""Lessons: every shipped lesson loads; a lesson runs and its page carries the runs' figures."""

import pytest

from abm import lessons
from abm.config import ConfigError
from tests.conftest import abm_cli


@pytest.mark.parametrize("path", lessons.available(), ids=lambda p: p.stem)
def test_shipped_lessons_are_valid(path):
    lesson = lessons.load(path)
    assert len(lesson.steps) >= 3
    configs = [lesson.config(i) for i in range(len(lesson.steps))]
    # Each step changes something: no two steps run the same settings.
    hashes = [c.model_copy(update={"run": c.run.model_copy(update={"name": None})}).hash()
              for c in configs]
    assert len(set(hashes)) == len(hashes)


def test_required_lessons_exist():
    titles = {lessons.load(p).title for p in lessons.available()}
    assert "Why did 1,950 cameras not cut crime?" in titles
    assert "Cameras or police?" in titles


def _tiny_lesson(tmp_path):
    (tmp_path / "town.yaml").write_text(
        "run: {days: 20}\ncity: {nodes: 200}\noffenders: {count: 40}\npolice: {units: 2}\n"
        "cameras: {count: 10, install_day: 5}\n")
    (tmp_path / "tiny.yaml").write_text(
        "title: Tiny\nsummary: Two steps.\nreplicates: 2\nsteps:\n"
        "  - {title: Bare, scenario: town.yaml, set: {cameras.install_day: 3650},"
        " text: No cameras., question: How much crime}\n"
        "  - {title: Some, scenario: town.yaml, set: {cameras.operators: 3},"
        " control: {label: no cameras, set: {cameras.install_day: 3650}},"
        " text: Cameras., question: Less, reveal: What the runs gave.}\n"
        "debrief: {text: Look back.}\n")
    return tmp_path / "tiny.yaml"


def test_lesson_runs_its_pairs_and_writes_its_page(tmp_path):
    lesson = lessons.load(_tiny_lesson(tmp_path))
    results = lessons.run(lesson, tmp_path / "pairs", workers=1)
    assert len(results) == 2
    bare = results[0].figure("crimes_total")
    assert bare.a[0] == 0 and bare.b[0] == 2 and bare.b[1] > 0  # no control; two replicates
    assert results[0].figure("camera_uptime").b[0] == 0  # never installed: no uptime
    some = results[1].figure("camera_uptime")
    assert some.b[1] > 0 and some.diff[0] == 0  # the control has no cameras to compare
    page = lessons.markdown(lesson, results)
    assert "## Step 2: Some" in page and "**Question.** Less" in page
    assert "compared with no cameras" in page and "What the runs gave." in page
    total = results[1].figure("crimes_total")
    assert f"| Crimes (true) | {total.a[1]:,.1f} (" in page  # the control's mean and interval
    assert page.rstrip().endswith("Look back.")
    # A second run reads the pairs back rather than running them again.
    again = lessons.run(lesson, tmp_path / "pairs", workers=1)
    assert again[1].runs.equals(results[1].runs)


def test_bad_lessons_are_one_line_errors(tmp_path):
    (tmp_path / "town.yaml").write_text("run: {days: 5}\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: X\nsummary: Y\nsteps: []\n")
    with pytest.raises(ConfigError, match="steps"):
        lessons.load(bad)
    bad.write_text("title: X\nsummary: Y\nsteps:\n  - {title: A, scenario: town.yaml,"
                   " set: {cameras.count: -2}, text: T, question: Q}\n")
    with pytest.raises(ConfigError, match="cameras.count"):
        lessons.load(bad)
    done = abm_cli("lesson", "no-such-lesson")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
