"""The app's pieces without a browser: settings, scenarios, the map, the frame, the wiring.

Component tests render the real page with Solara's test renderer and press its real widgets.
"""

import time

import ipyvue
import ipyvuetify as v
import ipywidgets
import numpy as np
import pytest
import solara
import yaml
from matplotlib.colors import to_rgba

from abm import lessons
from abm.config import ConfigError, load
from abm.model import SafeCityModel
from abm.simulate import simulate
from abm.ui.charts import chart_options, difference_option
from abm.ui.frame import DEFAULT_STEP_MIN, app_frame, frame
from abm.ui.lessons import step_label
from abm.ui.map import COLOURS, MapRenderer, recent_crimes, renderer_for
from abm.ui.scenarios import list_scenarios
from abm.ui.session import CityCache, Simulation
from abm.ui.settings import edit, hardware_uptime, mttr_for_uptime
from abm.ui.state import COMPARE, EXPLORE, LESSONS, AppState
from tests.conftest import ROOT, small

SMALL_TOWN = {"run": {"days": 2, "seed": 3}, "city": {"nodes": 225},
              "offenders": {"count": 250}, "police": {"units": 3}, "cameras": {"count": 12}}


@pytest.fixture
def configs(tmp_path):
    """A scenario folder: a small town, a variant in a subfolder, and a broken file."""
    (tmp_path / "default.yaml").write_text(yaml.safe_dump(SMALL_TOWN))
    (tmp_path / "scenarios").mkdir()
    variant = {**SMALL_TOWN, "cameras": {"count": 12, "repair": False, "mtbf_days": 2}}
    (tmp_path / "scenarios" / "no-repairs.yaml").write_text(yaml.safe_dump(variant))
    (tmp_path / "broken.yaml").write_text("cameras:\n  count: -3\n")
    (tmp_path / "sweeps").mkdir()  # not a scenario: left out of the picker
    (tmp_path / "sweeps" / "s.yaml").write_text("name: s\nbase: ../default.yaml\n")
    return tmp_path


def page(state_dir):
    """Render the app's page headless, on a scenario folder; returns (state, finder)."""
    import app

    states = []

    def make_state():
        states.append(AppState(config_dir=state_dir))
        return states[-1]

    original = app.AppState
    app.AppState = make_state
    try:
        _, rc = solara.render(app.App(), handle_error=False)
    finally:
        app.AppState = original
    return states[0], rc


def clock(rc) -> str:
    return rc.find(ipyvue.Html, class_="abm-clock").widget.children[0]


def slider(rc, key: str, tag: str = "abm"):
    return rc.find(v.Slider, class_=f"abm-slider {tag}-{key.replace('.', '-')}").widget


# --- settings and scenarios -----------------------------------------------------------------


def test_typed_seed_is_parsed_like_a_cli_override():
    config = load(ROOT / "abm/configs/default.yaml")
    assert edit(config, {"run.seed": "7"}).run.seed == 7
    assert edit(config, {"run.seed": " 11 "}).run.seed == 11
    with pytest.raises(ConfigError, match="run.seed"):
        edit(config, {"run.seed": "abc"})
    with pytest.raises(ConfigError, match="cameras.count"):
        edit(config, {"cameras.count": -1})
    assert edit(config, {"cameras.repair": False}).cameras.repair is False


def test_uptime_target_sets_the_repair_time():
    assert mttr_for_uptime(365, 0.5) == pytest.approx(365)
    config = load(ROOT / "abm/configs/default.yaml")
    for target in (0.3, 0.75, 0.95):
        edited = edit(config, {"cameras.mttr_days": mttr_for_uptime(100, target),
                               "cameras.mtbf_days": 100})
        assert hardware_uptime(edited) == pytest.approx(target)
    assert hardware_uptime(edit(config, {"cameras.repair": False})) == 0.0


def test_scenarios_are_found_recursively(configs):
    names = list_scenarios(configs)
    assert names[0] == "default.yaml"
    assert set(names) == {"default.yaml", "scenarios/no-repairs.yaml", "broken.yaml"}
    assert "default.yaml" in list_scenarios()  # the project's own configs/


# --- the map and the frame ------------------------------------------------------------------


def test_map_draws_streets_at_real_positions():
    model = SafeCityModel(small())
    renderer = MapRenderer(model)
    streets = renderer.ax.collections[0]
    segments = np.array(streets.get_segments())
    expected = model.city.xy[model.city.edge_array()]
    np.testing.assert_allclose(segments, expected)
    offsets = renderer.cameras.get_offsets()
    np.testing.assert_allclose(offsets, model.city.xy[model.cameras.nodes])


def test_app_frame_advances_the_model_and_redraws_the_map():
    model = SafeCityModel(small())
    first = renderer_for(model).draw(model).copy()
    assert app_frame(model) is None
    assert model.time == DEFAULT_STEP_MIN
    assert frame(model, 30.0).startswith(b"\x89PNG")
    assert model.time == DEFAULT_STEP_MIN + 30.0
    for _ in range(24):
        app_frame(model)
    later = renderer_for(model).draw(model)
    assert (first != later).any()  # people moved, crimes appeared
    assert renderer_for(model) is renderer_for(model)  # the street layer is built once


def test_broken_cameras_are_drawn_in_the_broken_colour():
    cfg = small("cameras.repair=false", "cameras.mtbf_days=0.05", "offenders.count=0")
    model = SafeCityModel(cfg)
    renderer = renderer_for(model)
    up, down, pending = (np.array(to_rgba(COLOURS[name]))
                         for name in ("camera_up", "camera_down", "camera_pending"))
    renderer.update(model)  # before the install event: not yet live
    np.testing.assert_allclose(renderer.cameras.get_facecolors(), np.tile(pending, (15, 1)))
    model.run_for(0.01)
    assert (model.cameras.state() == 1).all()
    renderer.update(model)
    np.testing.assert_allclose(renderer.cameras.get_facecolors(), np.tile(up, (15, 1)))
    model.run_days(3)
    assert (model.cameras.state() == 0).all()
    renderer.update(model)
    np.testing.assert_allclose(renderer.cameras.get_facecolors(), np.tile(down, (15, 1)))


def test_recent_crimes_fade_with_age():
    model = SafeCityModel(small("offenders.count=300"))
    model.run_days(6)
    nodes, ages, recorded = recent_crimes(model, 2880.0)
    assert len(nodes) > 0 and len(nodes) == len(ages) == len(recorded)
    assert (ages >= 0).all() and (ages <= 2880.0).all()
    in_window = [c for c in model.crimes if model.time - c.time_min <= 2880.0]
    assert len(nodes) == len(in_window) < len(model.crimes)


def test_live_summary_equals_summary_json_at_the_end(configs):
    """Advanced frame by frame in the app, a run ends with the figures `abm run` writes."""
    state = AppState(config_dir=configs)
    while state.step():
        pass
    assert state.run.finished and state.run.day == pytest.approx(2.0)
    expected = simulate(load(configs / "default.yaml")).summary
    assert state.run.summary() == expected


def test_charts_plot_the_recorded_days(configs):
    state = AppState(config_dir=configs)
    while state.step():
        pass
    rows = state.run.daily_rows()
    assert len(rows) == 2
    charts = chart_options(rows, state.run.response_times())
    crimes = {s["name"]: s["data"] for s in charts["crimes"]["series"]}
    assert crimes["true"] == [[r["day"], r["crimes_true"]] for r in rows]
    assert crimes["recorded"] == [[r["day"], r["crimes_recorded"]] for r in rows]
    clearance = charts["arrests"]["series"][1]["data"][-1][1]
    assert clearance == pytest.approx(state.run.summary()["clearance_rate"], abs=1e-4)
    calls = sum(n for _, n in charts["response"]["series"][0]["data"])
    assert calls == len(state.run.response_times()) > 0
    same = difference_option(rows, rows)
    assert all(y == 0 for _, y in same["series"][0]["data"])


def test_compare_runs_share_seed_and_city(configs):
    cities = CityCache()
    config = load(configs / "default.yaml")
    contrast = edit(config, {"cameras.count": 0})
    assert cities.get(config) is cities.get(contrast)
    a, b = Simulation(config, cities.get(config)), Simulation(contrast, cities.get(contrast))
    assert a.model.city is b.model.city
    assert a.config.run.seed == b.config.run.seed


# --- the page, headless ---------------------------------------------------------------------


def test_step_advances_the_clock_and_the_summary(configs):
    state, rc = page(configs)
    assert clock(rc).startswith("Day 0.00 of 2")
    step = rc.find(v.Btn, class_="abm-step").widget
    for _ in range(6):
        step.click()
    assert clock(rc).startswith("Day 0.25 of 2")
    assert state.run.summary()["sim_days"] == pytest.approx(0.25)
    rc.find(v.Select, label="Each step advances").widget.v_model = "1 day"
    step.click()
    assert clock(rc).startswith("Day 1.25")
    step.click()
    assert clock(rc).startswith("Day 2.00 of 2 - done")  # never past run.days
    assert rc.find(v.Btn, class_="abm-step").widget.disabled
    rc.find(v.Btn, class_="abm-reset").widget.click()
    assert clock(rc).startswith("Day 0.00 of 2")


def test_slider_change_restarts_the_run_with_the_new_setting(configs):
    state, rc = page(configs)
    rc.find(v.Btn, class_="abm-step").widget.click()
    slider(rc, "cameras.count").fire_event("change", 40)
    assert state.config.value.cameras.count == 40
    assert len(state.run.model.cameras.cameras) == 40
    assert clock(rc).startswith("Day 0.00")
    slider(rc, "police.units").fire_event("change", 0)
    assert state.run.model.units == []
    assert state.message.value == ""


def test_bad_seed_shows_a_message_and_keeps_the_run(configs):
    state, rc = page(configs)
    seed = rc.find(v.TextField, label="Seed").widget
    seed.v_model = "abc"
    seed.fire_event("focusout", None)
    message = rc.find(v.Alert, class_="abm-message")
    assert "run.seed" in str(message.widget.children)
    assert state.config.value.run.seed == 3
    seed = rc.find(v.TextField, label="Seed").widget
    seed.v_model = "17"
    seed.fire_event("focusout", None)
    assert state.config.value.run.seed == 17
    assert state.run.model.config.run.seed == 17
    assert state.message.value == ""


def test_scenario_picker_loads_files_and_reports_broken_ones(configs):
    state, rc = page(configs)
    picker = rc.find(v.Select, label="Scenario (configs/)").widget
    picker.v_model = "scenarios/no-repairs.yaml"
    assert state.config.value.cameras.repair is False
    assert state.run.config.cameras.repair is False
    picker.v_model = "broken.yaml"
    assert "cameras.count" in state.message.value
    assert state.config.value.cameras.repair is False  # the last good scenario stays
    rc.find(v.Btn, class_="abm-step").widget.click()
    assert clock(rc).startswith("Day 0.04")


def test_compare_mode_runs_two_models_in_lockstep(configs):
    state, rc = page(configs)
    modes = rc.find(v.BtnToggle, class_="abm-modes").widget
    modes.v_model = 1  # the second button: Compare
    assert state.mode.value == COMPARE and len(state.runs) == 2
    rc.find(v.Btn, children=["No cameras"]).widget.click()
    a, b = state.runs
    assert len(b.model.cameras.cameras) == 0 and len(a.model.cameras.cameras) == 12
    assert a.model.city is b.model.city
    step = rc.find(v.Btn, class_="abm-step").widget
    for _ in range(3):
        step.click()
    assert a.model.time == b.model.time == 3 * DEFAULT_STEP_MIN
    maps = rc.find(ipywidgets.Image, _dom_classes=("solara-image", "abm-map-image"))
    assert len(maps) == 2
    assert maps.widgets[0].value != maps.widgets[1].value  # B has no cameras on its map
    slider(rc, "cameras.operators", "abm-b").fire_event("change", 0)  # run B's own panel
    assert state.contrast.value == {"cameras.count": 0, "cameras.operators": 0}
    assert state.runs[1].config.cameras.operators == 0
    assert state.runs[0].config.cameras.operators == state.config.value.cameras.operators == 2
    modes.v_model = 0
    assert state.mode.value == EXPLORE and len(state.runs) == 1


def test_play_runs_to_the_end_and_stops(configs):
    state, rc = page(configs)
    state.step_min.set(360.0)
    rc.find(v.Btn, class_="abm-play").widget.click()
    assert state.playing.value
    for _ in range(200):  # bounded wait for the play loop's thread
        if not state.playing.value:
            break
        time.sleep(0.05)
    assert not state.playing.value  # it stops by itself at run.days
    assert state.run.finished


@pytest.mark.parametrize("changes", [
    {"cameras.count": 0},
    {"police.units": 0},
    {"offenders.count": 0},
    {"cameras.operators": 0, "cameras.count": 0, "police.units": 0, "offenders.count": 0},
    {"cameras.repair": False, "cameras.mtbf_days": 1},
    {"city.nodes": 10_000, "city.generator": "organic"},
    {"cameras.count": 1000, "police.units": 100, "offenders.count": 2000,
     "cameras.operators": 50, "cameras.feeds_per_operator": 16,
     "police.dispatch_delay_min": 120},
])
def test_extreme_inputs_keep_the_app_up(configs, changes):
    state, rc = page(configs)
    state.change_many({**changes, "run.days": 10})
    assert state.message.value == ""
    state.step_min.set(7 * 1440.0)
    assert state.step()
    assert clock(rc).startswith("Day 7.00 of 10")
    summary = state.run.summary()
    assert summary["sim_days"] == pytest.approx(7.0)
    if changes.get("cameras.repair") is False:
        assert (state.run.model.cameras.state() == 0).all()  # every camera broken


# --- lesson mode ----------------------------------------------------------------------------


def text(rc, cls: str) -> str:
    return rc.find(ipyvue.Html, class_=cls).widget.children[0]


def lesson_mode(configs):
    state, rc = page(configs)
    rc.find(v.BtnToggle, class_="abm-modes").widget.v_model = 2  # the third button: Lessons
    assert state.mode.value == LESSONS
    return state, rc


def assert_on_step(state, rc, lesson, i):
    """The panel shows step i and the app runs its settings, restarted at day 0."""
    step = lesson.steps[i]
    assert text(rc, "abm-lesson-step") == f"Step {i + 1} of {len(lesson.steps)}"
    assert text(rc, "abm-lesson-text") == step.text.strip()
    assert text(rc, "abm-lesson-question") == step.question.strip()
    assert state.config.value == lesson.config(i)
    assert state.run.config == lesson.config(i)
    assert state.scenario.value == step_label(lesson, i)
    assert state.run.model.time == 0
    assert clock(rc) == f"Day 0.00 of {lesson.config(i).run.days:g}"
    assert state.message.value == ""


def test_lesson_mode_loads_each_step_of_each_lesson(configs):
    state, rc = lesson_mode(configs)
    shipped = [lessons.load(p) for p in lessons.available()]
    assert_on_step(state, rc, shipped[0], 0)  # entering the mode opens the first lesson
    for lesson in shipped:
        rc.find(v.Select, label="Lesson").widget.v_model = lesson.title
        assert text(rc, "abm-lesson-summary") == lesson.summary.strip()
        assert_on_step(state, rc, lesson, 0)
        assert rc.find(v.Btn, class_="abm-lesson-previous").widget.disabled
        rc.find(v.Btn, class_="abm-step").widget.click()
        assert state.run.model.time == DEFAULT_STEP_MIN
        rc.find(v.Btn, class_="abm-lesson-next").widget.click()
        assert_on_step(state, rc, lesson, 1)  # the run restarted at day 0
        rc.find(v.Btn, class_="abm-lesson-previous").widget.click()
        assert_on_step(state, rc, lesson, 0)
    police = shipped[[x.name for x in shipped].index("cameras-or-police")]
    rc.find(v.Select, label="Lesson").widget.v_model = police.title
    for _ in range(2):
        rc.find(v.Btn, class_="abm-lesson-next").widget.click()
    assert state.config.value.police.units == 7 == len(state.run.model.units)  # "All police"
    assert slider(rc, "police.units").v_model == 7  # the settings panel shows the step's
    rc.find(v.Btn, class_="abm-lesson-next").widget.click()
    assert rc.find(v.Btn, class_="abm-lesson-next").widget.disabled  # the last step
    assert state.config.value.cameras.operators == 4


def test_leaving_and_coming_back_keeps_the_step_and_its_run(configs):
    state, rc = lesson_mode(configs)
    rc.find(v.Btn, class_="abm-lesson-next").widget.click()
    rc.find(v.Btn, class_="abm-step").widget.click()
    modes = rc.find(v.BtnToggle, class_="abm-modes").widget
    modes.v_model = 0
    slider(rc, "cameras.operators").fire_event("change", 3)  # the user tries an answer out
    modes.v_model = 2
    assert text(rc, "abm-lesson-step").startswith("Step 2 of")
    assert state.config.value.cameras.operators == 3  # not reset to the step's settings
    picker = rc.find(v.Select, label="Scenario (configs/)").widget
    assert picker.v_model == state.scenario.value in picker.items
    picker.v_model = "default.yaml"
    assert state.config.value.run.days == 2


@pytest.fixture
def lesson_files(tmp_path, monkeypatch):
    """A lesson folder: a readable two-step lesson on the small town, and a broken lesson."""
    folder = tmp_path / "lessons"
    folder.mkdir()
    (folder / "town.yaml").write_text(yaml.safe_dump(SMALL_TOWN))
    (folder / "a-broken.yaml").write_text(
        "title: Broken\nsummary: A step with a bad value.\nsteps:\n"
        "  - {title: A, scenario: town.yaml, set: {cameras.count: -2}, text: T, question: Q}\n")
    (folder / "tiny.yaml").write_text(
        "title: Tiny\nsummary: Two steps.\nsteps:\n"
        "  - {title: Bare, scenario: town.yaml, set: {cameras.count: 0}, text: No cameras.,"
        " question: 'How much crime?'}\n"
        "  - {title: Some, scenario: town.yaml, set: {cameras.operators: 3}, text: Cameras.,"
        " question: 'Less?'}\n")
    found = sorted(folder.glob("*.yaml"))
    found.remove(folder / "town.yaml")
    monkeypatch.setattr(lessons, "available", lambda: found)
    return found


def test_broken_lesson_file_is_a_message(configs, lesson_files):
    state, rc = lesson_mode(configs)
    tiny = lessons.load(lesson_files[1])
    assert_on_step(state, rc, tiny, 0)  # the first readable lesson opens
    picker = rc.find(v.Select, label="Lesson").widget
    assert picker.items == ["a-broken.yaml (cannot be read)", "Tiny"]
    picker.v_model = "a-broken.yaml (cannot be read)"
    message = rc.find(v.Alert, class_="abm-message")
    assert "cameras.count" in str(message.widget.children)
    assert len(state.message.value.splitlines()) == 1
    assert state.config.value == tiny.config(0)  # the last good run stays
    rc.find(v.Btn, class_="abm-step").widget.click()
    assert clock(rc).startswith("Day 0.04")
    picker.v_model = "Tiny"
    assert_on_step(state, rc, tiny, 0)


def test_only_broken_lessons_keep_the_app_up(configs, lesson_files, monkeypatch):
    monkeypatch.setattr(lessons, "available", lambda: lesson_files[:1])
    state, rc = lesson_mode(configs)
    assert "cameras.count" in state.message.value
    assert state.config.value.run.days == 2  # default.yaml still runs
    rc.find(v.Btn, class_="abm-step").widget.click()
    assert clock(rc).startswith("Day 0.04")
