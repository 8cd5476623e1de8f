"""The app's pieces without a browser: settings, scenarios, the map, the frame, the wiring.

Component tests render the real page with Solara's test renderer and press its real widgets.
"""

import time

import ipyvue
import ipyvuetify as v
import ipywidgets
import numpy as np
import pandas as pd
import pytest
import solara
import yaml
from matplotlib.colors import to_rgba

from abm import lessons
from abm.camera_records import camera_frame
from abm.config import ConfigError, load
from abm.metrics import crime_frame
from abm.model import SafeCityModel
from abm.simulate import simulate
from abm.ui.charts import chart_options, difference_option
from abm.ui.frame import DEFAULT_STEP_MIN, app_frame, frame
from abm.ui.legend import entries, note
from abm.ui.lessons import LESSON_STEP_MIN, step_label
from abm.ui.map import COLOURS, LAYERS, MapRenderer, recent_crimes, renderer_for
from abm.ui.scenarios import list_scenarios
from abm.ui.session import OPENING_MIN, CityCache, Simulation
from abm.ui.settings import edit, hardware_uptime, mttr_for_uptime
from abm.ui.state import COMPARE, EXPLORE, LESSONS, AppState, offered
from abm.ui.summary import summary_rows
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


def page(state_dir, pairs_dir=None):
    """Render the app's page headless, on a scenario folder; returns (state, finder)."""
    import app

    states = []

    def make_state():
        states.append(AppState(config_dir=state_dir, pairs_dir=pairs_dir or state_dir / "pairs"))
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
    up, down = (np.array(to_rgba(COLOURS[name])) for name in ("camera_up", "camera_down"))
    renderer.update(model)  # before the install event: not there yet, so nothing is drawn
    assert (renderer.cameras.get_facecolors()[:, 3] == 0).all()
    assert (renderer.cameras.get_edgecolors()[:, 3] == 0).all()
    assert (renderer.coverage.get_facecolors()[:, 3] == 0).all()
    model.run_for(0.01)
    assert (model.cameras.state() == 1).all()
    renderer.update(model)
    np.testing.assert_allclose(renderer.cameras.get_facecolors(), np.tile(up, (15, 1)))
    assert (renderer.coverage.get_facecolors()[:, 3] > 0).all()
    model.run_days(3)
    assert (model.cameras.state() == 0).all()
    renderer.update(model)
    np.testing.assert_allclose(renderer.cameras.get_facecolors(), np.tile(down, (15, 1)))


def test_cameras_never_installed_are_not_drawn_or_listed():
    """A run whose cameras go live after its end shows no camera, coverage or camera figure."""
    model = SafeCityModel(small("cameras.install_day=3650"))
    renderer = renderer_for(model)
    bare = SafeCityModel(small("cameras.count=0"))
    model.run_days(1)
    bare.run_days(1)
    assert (renderer_for(model).draw(model) == renderer_for(bare).draw(bare)).all()
    labels = [label for _, label in entries(renderer, model, LAYERS)]
    assert not any("camera" in label for label in labels)
    assert "go live only after it ends" in note(model)
    cells = dict(summary_rows([Simulation(small("cameras.install_day=3650")).summary()]))
    assert cells["Street places covered"] == ["no cameras"]
    assert cells["Perceived camera risk"] == ["no cameras"]


def test_legend_has_an_entry_for_every_layer_drawn():
    model = SafeCityModel(small("offenders.count=300"))
    model.run_days(2)
    renderer = renderer_for(model)
    everything = dict.fromkeys(LAYERS, True)
    renderer.set_layers(everything)
    renderer.draw(model)
    labels = " | ".join(label for _, label in entries(renderer, model, everything))
    for words in ("camera working", "camera down", "what a working camera sees",
                  "police unit on patrol", "police unit on a call", "offender",
                  "recorded by the police", "never recorded", "all crimes so far", "street"):
        assert words in labels
    with_hotspots = renderer.draw(model).copy()
    assert renderer.offenders in renderer.movers()
    renderer.set_layers({"hotspots": False, "offenders": False})
    labels = " | ".join(label for _, label in entries(renderer, model, renderer.layers))
    assert "offender" not in labels and "all crimes so far" not in labels
    assert renderer.offenders not in renderer.movers()
    assert (renderer.draw(model) != with_hotspots).any()


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
    charts = chart_options(rows, state.run.response_times(), state.run.crimes_by_hour())
    crimes = {s["name"]: s["data"] for s in charts["crimes"]["series"]}
    assert crimes["true"] == [[r["day"], r["crimes_true"]] for r in rows]
    assert crimes["recorded"] == [[r["day"], r["crimes_recorded"]] for r in rows]
    clearance = charts["arrests"]["series"][1]["data"][-1][1]
    assert clearance == pytest.approx(state.run.summary()["clearance_rate"], abs=1e-4)
    calls = sum(n for _, n in charts["response"]["series"][0]["data"])
    assert calls == len(state.run.response_times()) > 0
    hours = {s["name"]: s["data"] for s in charts["hours"]["series"]}
    log = state.run.crime_log()
    assert hours["true"] == [[h, int((log["hour"] == h).sum())] for h in range(24)]
    assert sum(n for _, n in hours["recorded"]) == int(log["recorded"].sum())
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
    assert clock(rc).startswith("Day 1.00")  # frames end on whole steps
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
    # The pair's replicates run in a thread whose progress re-renders the page; let them end,
    # so that the widgets read below are not being replaced meanwhile.
    assert state.replicates.wait(300)
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


def test_compare_mode_forks_b_from_a_at_its_moment(configs):
    state, rc = page(configs)
    rc.find(v.BtnToggle, class_="abm-modes").widget.v_model = 1  # Compare
    rc.find(v.Btn, children=["Nobody watching"]).widget.click()
    state.step_min.set(360.0)
    step = rc.find(v.Btn, class_="abm-step").widget
    for _ in range(3):
        step.click()
    a = state.runs[0]
    rc.find(v.Btn, class_="abm-fork").widget.click()
    b = state.runs[1]
    assert state.runs[0] is a and b.model is not a.model and b.model.city is a.model.city
    assert b.model.time == a.model.time and b.model.config.cameras.operators == 0
    pd.testing.assert_frame_equal(b.crime_log(), a.crime_log())
    assert b.daily_rows() == a.daily_rows()  # one history up to the fork
    step.click()
    assert b.model.time == a.model.time == 4 * 360.0
    rc.find(v.Btn, children=["No cameras"]).widget.click()  # a count cannot change mid-run
    for _ in range(2):
        step.click()
    before = state.runs[1]
    rc.find(v.Btn, class_="abm-fork").widget.click()
    assert "cameras.count" in state.message.value and state.runs[1] is before


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
    """The panel shows step i and the app runs its settings (beside its control, if it has
    one), restarted at day 0."""
    step = lesson.steps[i]
    assert text(rc, "abm-lesson-step") == f"Step {i + 1} of {len(lesson.steps)}"
    assert text(rc, "abm-lesson-text") == step.text.strip()
    assert text(rc, "abm-lesson-question") == step.question.strip()
    assert state.config.value == lesson.config(i)
    assert state.runs[-1].config == lesson.config(i)
    if step.control is None:
        assert len(state.runs) == 1
    else:
        assert [r.config for r in state.runs] == [lesson.control_config(i), lesson.config(i)]
        assert state.runs[0].model.city is state.runs[1].model.city
    assert state.scenario.value == step_label(lesson, i)
    assert state.run.model.time == OPENING_MIN  # day 0, what is due at minute 0 done
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
        assert state.run.model.time == LESSON_STEP_MIN  # a lesson plays a day a frame
        rc.find(v.Btn, class_="abm-lesson-next").widget.click()
        assert_on_step(state, rc, lesson, 1)  # the run restarted at day 0
        rc.find(v.Btn, class_="abm-lesson-previous").widget.click()
        assert_on_step(state, rc, lesson, 0)
    police = shipped[[x.name for x in shipped].index("cameras-or-police")]
    rc.find(v.Select, label="Lesson").widget.v_model = police.title
    for _ in range(2):
        rc.find(v.Btn, class_="abm-lesson-next").widget.click()
    assert state.config.value.police.units == 7 == len(state.runs[-1].model.units)  # All police
    assert len(state.runs[0].model.units) == 5  # beside its control, today's five cars
    assert slider(rc, "police.units").v_model == 7  # the settings panel shows the step's
    rc.find(v.Btn, class_="abm-lesson-next").widget.click()
    assert state.config.value.cameras.operators == 4
    rc.find(v.Btn, class_="abm-lesson-to-debrief").widget.click()  # the last step: debrief
    assert text(rc, "abm-lesson-step") == "Debrief"
    assert rc.find(v.Btn, class_="abm-lesson-next").widget.disabled  # nothing after it


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
    assert clock(rc).startswith("Day 1.00")
    picker.v_model = "Tiny"
    assert_on_step(state, rc, tiny, 0)


def test_only_broken_lessons_keep_the_app_up(configs, lesson_files, monkeypatch):
    monkeypatch.setattr(lessons, "available", lambda: lesson_files[:1])
    state, rc = lesson_mode(configs)
    assert "cameras.count" in state.message.value
    assert state.config.value.run.days == 2  # default.yaml still runs
    rc.find(v.Btn, class_="abm-step").widget.click()
    assert clock(rc).startswith("Day 0.04")


# --- predict, run, reveal -------------------------------------------------------------------


@pytest.fixture
def paired_lesson(tmp_path, monkeypatch):
    """A two-step lesson on the small town: one step on its own, one against a control."""
    folder = tmp_path / "lessons"
    folder.mkdir()
    (folder / "town.yaml").write_text(yaml.safe_dump(SMALL_TOWN))
    (folder / "pair.yaml").write_text(yaml.safe_dump({
        "title": "Pair", "summary": "A step and a compare.", "replicates": 3, "seed": 5,
        "steps": [
            {"title": "Town", "scenario": "town.yaml", "text": "The town.",
             "question": "How much is recorded?",
             "predict": {"figure": "crimes_recorded / crimes_total", "choices": [
                 {"label": "Under half", "low": 0, "high": 0.5},
                 {"label": "Half or more", "low": 0.5, "high": 1.01}]}},
            {"title": "More police", "scenario": "town.yaml", "set": {"police.units": 12},
             "text": "Four times the patrol cars.", "question": "Faster responses?",
             "control": {"label": "three patrol cars"}, "naive": True,
             "reveal": "More cars, **closer** to each call.",
             "predict": {"figure": "response_time_median_min", "choices": [
                 {"label": "Faster", "direction": "down"},
                 {"label": "Same", "direction": "same"},
                 {"label": "Slower", "direction": "up"}]}}],
        "debrief": {"text": "Look back."}}))
    return folder / "pair.yaml", monkeypatch


def test_lesson_schema_refuses_mismatched_predictions_and_claims(paired_lesson):
    path, _ = paired_lesson
    data = yaml.safe_load(path.read_text())
    step = data["steps"][1]
    step["predict"] = {"figure": "crimes_total", "choices": [
        {"label": "Fewer", "low": 0, "high": 1}, {"label": "More", "low": 1, "high": 2}]}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="offers a direction"):
        lessons.load(path)
    step["predict"] = {"figure": "crimes_total", "choices": [
        {"label": "Fewer", "direction": "down"}, {"label": "More", "direction": "up"}]}
    data["steps"][0]["claims"] = {"crimes_total": "down"}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="without a control claims"):
        lessons.load(path)
    data["steps"][0]["claims"] = {"crimes_total": [10, 1]}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="low, high"):
        lessons.load(path)
    data["steps"][0]["claims"] = {}
    step["control"]["set"] = {"run.seed": 99}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="share the seed"):
        lessons.load(path)


def test_a_lesson_step_is_predict_run_reveal_and_ends_in_a_debrief(configs, paired_lesson):
    path, monkeypatch = paired_lesson
    monkeypatch.setattr(lessons, "available", lambda: [path])
    lesson = lessons.load(path)
    state, rc = lesson_mode(configs)
    assert_on_step(state, rc, lesson, 0)
    commit = rc.find(v.Btn, class_="abm-lesson-commit").widget
    assert commit.disabled  # no prediction chosen yet
    choices = rc.find(v.RadioGroup, class_="abm-lesson-choices").widget
    choices.v_model = 7  # not a choice: ignored
    assert rc.find(v.Btn, class_="abm-lesson-commit").widget.disabled
    choices.v_model = 1
    rc.find(v.Btn, class_="abm-lesson-commit").widget.click()
    assert state.predictions.value == {"pair#0": 1}
    assert rc.find(v.RadioGroup, class_="abm-lesson-choices").widget.disabled
    state.pause()  # the live run played; the replicates run in the background
    assert state.replicates.wait(300)
    # The result re-renders the page from the replicates' thread, which a busy machine can
    # leave for the play loop's thread to finish: wait for the reveal, not only the thread.
    reveal = rc.find(v.Card, class_="ma-0 abm-lesson-reveal").wait_for(timeout=120)
    assert len(reveal) == 1
    result = state.replicates.result.value
    figure = result.figure("crimes_recorded / crimes_total")
    assert figure.b[0] == 3 and figure.a[0] == 0  # three replicates, no control
    answer = text(rc, "abm-lesson-answer")
    assert answer.startswith("Over 3 seeds, share of crimes recorded was")
    right = lessons.answer(lesson.steps[0], result)
    assert lesson.steps[0].predict.choices[right].label.lower() in answer
    verdict = text(rc, "abm-lesson-verdict")
    assert verdict.endswith("bear it out." if right == 1 else "say otherwise.")
    # Step 2: a pair against its control.
    rc.find(v.Btn, class_="abm-lesson-next").widget.click()
    assert_on_step(state, rc, lesson, 1)
    assert len(rc.find(v.Card, class_="ma-0 abm-lesson-reveal")) == 0  # nothing before committing
    rc.find(v.RadioGroup, class_="abm-lesson-choices").widget.v_model = 0
    rc.find(v.Btn, class_="abm-lesson-commit").widget.click()
    state.pause()
    assert state.replicates.wait(300)
    result = state.replicates.result.value
    assert result.pair == lesson.pair(1)
    diff = result.figure("response_time_median_min")
    assert diff.diff[0] == 3  # B - A over the three seeds
    a = result.runs[result.runs["label"] == "A"].set_index("seed")["response_time_median_min"]
    b = result.runs[result.runs["label"] == "B"].set_index("seed")["response_time_median_min"]
    assert diff.diff[1] == pytest.approx((b - a.loc[b.index]).mean())
    assert "against three patrol cars" in text(rc, "abm-lesson-answer")
    assert len(rc.find(v.Html, class_="abm-lesson-explanation")) == 1  # the reveal's text
    naive = text(rc, "abm-lesson-naive")  # cameras live from day 0: no "before" to count
    assert naive.startswith("A before/after count needs days before and after")
    assert "Against its control over 3 seeds, the step changed true crime by" in naive
    # The debrief: each prediction beside what the runs gave.
    rc.find(v.Btn, class_="abm-lesson-to-debrief").widget.click()
    assert text(rc, "abm-lesson-step") == "Debrief"
    assert text(rc, "abm-lesson-debrief-text") == "Look back."
    assert text(rc, "abm-lesson-score").endswith("predictions borne out.")


def test_before_after_is_the_vendors_figure_of_one_history():
    from abm.ui.lessons import before_after

    rows = [{"day": d, "crimes_recorded": 4 if d <= 3 else 5} for d in range(1, 8)]
    assert before_after(rows, 3) == (pytest.approx(25.0), 7)
    assert before_after(rows, 0) is None and before_after(rows, 10) is None


def test_a_step_committed_twice_reads_its_replicates_back(configs, paired_lesson, tmp_path):
    """A pair already run (another student, an earlier visit) is read back, not run again."""
    from abm.comparison import run_pair

    path, _ = paired_lesson
    lesson = lessons.load(path)
    calls = []
    first = run_pair(lesson.pair(1), tmp_path / "cache", on_run=lambda d, n: calls.append(d))
    assert calls[-1] == 6 and first.failed == 0
    calls.clear()
    again = run_pair(lesson.pair(1), tmp_path / "cache", on_run=lambda d, n: calls.append(d))
    assert calls == [6]  # all six runs found done
    assert again.runs.equals(first.runs)


# --- compare with uncertainty -----------------------------------------------------------------


def test_compare_runs_replicates_in_the_background(configs):
    state, rc = page(configs)
    rc.find(v.BtnToggle, class_="abm-modes").widget.v_model = 1
    rc.find(v.Select, label="Replicate seeds").widget.v_model = "4"
    assert state.replicate_count.value == 4
    rc.find(v.Btn, children=["Twice the police"]).widget.click()
    assert state.replicates.pair == state.compare_pair()
    assert state.runs[1].config.police.units == 6  # the live pair is still there
    assert state.replicates.wait(300)
    result = state.replicates.result.value
    assert result.pair.b.police.units == 6 and result.pair.replicates == 4
    assert sorted(result.runs["label"]) == ["A"] * 4 + ["B"] * 4
    seeds = result.runs.groupby("label")["seed"].apply(sorted)
    assert seeds["A"] == seeds["B"]  # common random numbers
    assert len(rc.find(ipyvue.Html, class_="abm-interval-note")) == 1
    rc.find(v.Select, label="Replicate seeds").widget.v_model = "1000"
    assert "replicates: choose one of" in state.message.value
    assert state.replicate_count.value == 4


def test_half_the_cameras_down_means_half_down():
    """The preset does what its name says: realised uptime near 50% over the run."""
    from abm.ui.compare import presets

    config = load(ROOT / "abm/configs/default.yaml")
    b = edit(config, presets(config)["Half the cameras down"])
    uptime = simulate(b).summary["camera_uptime"]
    assert 0.4 < uptime < 0.55
    assert hardware_uptime(b) == pytest.approx(0.5)


# --- the browser sends anything: every value is checked on the server -------------------------


@pytest.mark.parametrize(("key", "sent", "kept"), [
    ("city.nodes", 30_000, 10_000),
    ("offenders.count", 100_000, 2000),
    ("cameras.count", -5, 0),
    ("run.days", 10 ** 5000, 3650),
    ("cameras.mtbf_days", 1e300, 36_500),
], ids=["nodes", "offenders", "negative", "5000-digits", "huge-float"])
def test_crafted_slider_values_are_clamped_to_the_control(configs, key, sent, kept):
    state, rc = page(configs)
    slider_for = rc.find(v.Slider, class_=f"abm-slider abm-{key.replace('.', '-')}").widget
    if key in ("city.nodes", "run.days", "cameras.mtbf_days"):  # log sliders send positions
        state.change(key, sent)
    else:
        slider_for.fire_event("change", sent)
    assert state.config.value.get(key) == kept
    assert state.run.config.get(key) == kept
    assert "outside the control's range" in state.message.value
    assert len(state.message.value.splitlines()) == 1


@pytest.mark.parametrize("sent", ["abc", None, [3], {"a": 1}, True, float("nan"),
                                  float("inf"), "1" * 5000],
                         ids=["text", "none", "list", "dict", "bool", "nan", "inf", "digits"])
def test_crafted_non_numbers_are_a_message_not_an_error(configs, sent):
    state, rc = page(configs)
    before = state.run
    slider(rc, "cameras.count").fire_event("change", sent)
    assert state.message.value.startswith("settings: cameras.count: expected a number")
    assert state.run is before and state.config.value.cameras.count == 12
    state.change("cameras.repair", "yes")
    assert "expected true or false" in state.message.value
    state.change("police.patrol", "../../etc")
    assert "choose one of" in state.message.value
    state.change("run.seed", "9" * 5000)
    assert "at most" in state.message.value
    state.change("cameras.nodes", [1, 2])
    assert "not a setting this panel changes" in state.message.value
    state.change_many(["not", "a", "mapping"])
    assert state.message.value
    state.change_contrast({"city.nodes": 30_000})
    assert "cannot differ" in state.message.value
    state.set_mode("Admin")
    state.set_speed("1 century")
    state.set_layer("secret", True)
    state.zoom("x", None, -1)
    state.pan(float("nan"), 10 ** 400)
    state.hover(0, ["a", "b"])
    state.hover("0", [0.5, 0.5])
    assert state.run is before  # nothing rebuilt


def test_uptime_slider_values_are_checked_too(configs):
    state, rc = page(configs)
    rc.find(v.Slider, class_="abm-slider abm-uptime").widget.fire_event("change", "abc")
    assert "expected a number" in state.message.value
    rc.find(v.Slider, class_="abm-slider abm-uptime").widget.fire_event("change", 0.5)
    assert hardware_uptime(state.config.value) == pytest.approx(0.5, abs=1e-3)


def test_slider_ranges_cover_every_shipped_scenario_within_the_schema():
    from abm.config import setting
    from abm.ui.settings import CONTROLS

    configs = [load(ROOT / "abm/configs" / name) for name in offered(list_scenarios())]
    for path in lessons.available():
        lesson = lessons.load(path)
        for i in range(len(lesson.steps)):
            configs += [c for c in (lesson.config(i), lesson.control_config(i)) if c]
    for key, control in CONTROLS.items():
        if control.kind not in ("int", "float"):
            continue
        for config in configs:
            assert control.low <= config.get(key) <= control.high, (key, config.run.name)
        field = setting(key)
        for meta in field.metadata:
            if getattr(meta, "ge", None) is not None:
                assert control.low >= meta.ge, key
            if getattr(meta, "gt", None) is not None:
                assert control.low > meta.gt, key
            if getattr(meta, "le", None) is not None:
                assert control.high <= meta.le, key
    assert not any(n.startswith("bench/") for n in offered(list_scenarios()))


def test_log_sliders_reach_both_ends_and_round_trip():
    from abm.ui.settings import CONTROLS, LOG_STEPS, from_position, to_position

    mtbf = CONTROLS["cameras.mtbf_days"]
    assert from_position(mtbf, 0) == 1 and from_position(mtbf, LOG_STEPS) == 36_500
    for value in (1, 7, 365, 8850, 36_500):
        assert from_position(mtbf, to_position(mtbf, value)) == pytest.approx(value, rel=0.01)


def test_sliders_have_accessible_names(configs):
    _, rc = page(configs)
    sliders = rc.find(v.Slider).widgets
    assert sliders and all(s.label for s in sliders)


# --- the session ends --------------------------------------------------------------------------


def test_closing_the_session_drops_its_models(configs):
    """When Solara ends a tab's session it closes the page's render context (as here): the
    tab's state stops its replicates and drops its models. Sessions end a minute after the
    page goes, not after Solara's default day."""
    import app

    state, rc = page(configs)
    state.set_mode(COMPARE)
    assert state.runs and state.replicates.running
    rc.close()
    assert state.closed and state.runs == []
    assert state.replicates.pair is None  # stopped after the run in hand
    state.restart()
    assert state.runs == []  # nothing builds models for a closed session
    assert solara.server.settings.kernel.cull_timeout == app.SESSION_TIMEOUT
    assert solara.util.parse_timedelta(app.SESSION_TIMEOUT) <= 300


# --- the map answers where ------------------------------------------------------------------------


def test_tooltips_name_a_camera_a_unit_and_a_place(configs):
    state, _ = page(configs)
    while state.run.model.day < 1.5:
        state.step()
    run = state.run
    model = run.model
    i = int(np.flatnonzero(model.cameras.state() != -1)[0])
    fx, fy = run.renderer.share(*model.city.xy[model.cameras.nodes[i]])
    state.hover(0, [fx, fy])
    tip = state.tips.value[0][0]
    assert tip.startswith(f"Camera {i + 1}: ")
    records = camera_frame(model, crime_frame(model.crimes))
    assert f"crimes in its view while it worked: {records['crimes_seen'][i]}" in tip
    assert ("working" in tip) == bool(model.cameras.cameras[i].up)
    unit = model.positions()["units"][0]
    state.hover(0, list(run.renderer.share(*model.city.xy[unit])))
    tip = state.tips.value[0][0]
    assert tip.startswith("Police unit") and "calls answered so far" in tip
    counts = np.bincount([c.node for c in model.crimes], minlength=model.city.n)
    node = int(np.argmax(counts))
    x, y = model.city.xy[node]
    state.hover(0, list(run.renderer.share(x, y)))
    tip = state.tips.value[0][0]
    if tip.startswith("Place"):
        place = int(tip.split()[1])
        assert f"{counts[place]:,} crime" in tip
    state.hover(0, None)
    assert 0 not in state.tips.value


def test_zoom_and_pan_keep_both_maps_aligned(configs):
    state, rc = page(configs)
    rc.find(v.BtnToggle, class_="abm-modes").widget.v_model = 1
    a, b = state.runs
    point = a.renderer.point(0.25, 0.25)
    state.zoom(0.25, 0.25, 0.5)
    view = state.view.value
    assert view.width == pytest.approx(0.5)
    assert a.renderer.share(*point) == pytest.approx((0.25, 0.25))  # it stays under the pointer
    assert a.renderer.limits() == b.renderer.limits()
    x0, x1, y0, y1 = a.renderer.limits()
    assert x1 - x0 == pytest.approx((a.renderer.extent[1] - a.renderer.extent[0]) / 2)
    state.pan(-0.5, 0.0)  # drag to the left: the view moves right by half its width
    assert state.view.value.x0 == pytest.approx(view.x0 + 0.25)
    state.pan(-5.0, 0.0)
    assert state.view.value.x1 == pytest.approx(1.0)  # never past the city's edge
    rc.find(v.Btn, class_="abm-zoom-reset").widget.click()
    assert state.view.value.width == 1.0
    for _ in range(40):
        state.zoom(0.5, 0.5, 0.5)
    assert state.view.value.width >= 0.04


def test_hot_spot_layer_is_a_density_of_every_crime_so_far():
    from abm.ui.hotspots import density

    points = np.array([[100.0, 100.0], [900.0, 900.0]])
    grid, cell_km2 = density(points, np.array([3, 1]), (0, 1000, 0, 1000), 100, 30.0)
    assert grid.sum() == pytest.approx(4.0, rel=1e-3)
    assert cell_km2 == pytest.approx(0.0001)
    assert grid[10, 10] > grid[90, 90] > 0  # rows south to north, columns west to east
    model = SafeCityModel(small("offenders.count=300", "cameras.count=0", "police.units=0"))
    model.run_days(5)
    renderer = renderer_for(model)
    renderer.set_layers({"offenders": False, "recent": False})  # nothing drawn over the layer
    plain = renderer.draw(model).copy()
    renderer.set_layers({"hotspots": True, "offenders": False, "recent": False})
    hot = renderer.draw(model).copy()
    assert renderer.density_max > 0
    counts, recorded = renderer.crime_counts(model)
    assert counts.sum() == len(model.crimes) and (recorded <= counts).all()
    # The layer colours the map where crime has been: most at the place with most crimes.
    changed = np.abs(hot[..., :3].astype(int) - plain[..., :3]).sum(axis=2)
    px, py = renderer.share(*model.city.xy[int(np.argmax(counts))])
    h, w = changed.shape
    near = changed[int(py * h) - 3:int(py * h) + 4, int(px * w) - 3:int(px * w) + 4]
    assert near.mean() > changed.mean()


def test_map_has_the_city_name_a_scale_bar_and_dates():
    from datetime import date

    from abm.ui.map import clock_text, nice_length

    model = SafeCityModel(small())
    renderer = MapRenderer(model, name="islamabad")
    texts = [t.get_text() for t in renderer.ax.texts]
    assert "Islamabad - synthetic streets" in texts
    assert any(t.endswith(" m") or t.endswith(" km") for t in texts)
    assert nice_length(730) == 500 and nice_length(1999) == 1000
    assert clock_text(203 * 1440 + 61, date(2015, 1, 1)) == "Day 203  01:01  (Thu 23 Jul 2015)"
    assert clock_text(61) == "Day 0  01:01"


# --- sharing and exporting --------------------------------------------------------------------


def test_a_shared_link_reopens_the_same_settings(configs):
    from abm.ui.share import apply_query, to_query

    state, _ = page(configs)
    state.choose("scenarios/no-repairs.yaml")
    state.change_many({"cameras.count": 20, "police.units": 5})
    state.set_mode(COMPARE)
    state.change_contrast({"cameras.operators": 0})
    query = to_query(state)
    fresh = AppState(config_dir=configs, pairs_dir=configs / "pairs")
    apply_query(fresh, query)
    assert fresh.message.value == ""
    assert fresh.mode.value == COMPARE and fresh.scenario.value == "scenarios/no-repairs.yaml"
    assert fresh.config.value == state.config.value
    assert fresh.contrast.value == {"cameras.operators": 0}
    assert [r.config for r in fresh.runs] == [r.config for r in state.runs]


@pytest.mark.parametrize("query", ["scenario=../../etc/passwd", "mode=Root",
                                   "cameras.count=abc", "city.nodes=1e9&mode=Explore",
                                   "costs.camera_usd=1", "x=" + "1" * 5000, "step=99999"])
def test_a_crafted_link_is_a_message(configs, query):
    from abm.ui.share import apply_query

    state = AppState(config_dir=configs, pairs_dir=configs / "pairs")
    apply_query(state, query)
    assert state.message.value and len(state.message.value.splitlines()) == 1
    if query.startswith("city.nodes"):
        assert state.config.value.city.nodes == 10_000  # clamped, and said so


def test_chart_csv_holds_what_is_plotted(configs):
    from abm.ui.charts import option_csv

    state = AppState(config_dir=configs, pairs_dir=configs / "pairs")
    while state.step():
        pass
    charts = chart_options(state.run.daily_rows(), state.run.response_times())
    lines = option_csv(charts["crimes"]).splitlines()
    assert lines[0] == "day,true,recorded"
    assert len(lines) == 1 + len(state.run.daily_rows())
    for name in ("crimes", "arrests", "cameras", "response"):
        assert charts[name]["yAxis"][0]["minInterval"] == 1  # whole-number ticks for counts
        assert charts[name]["yAxis"][0]["min"] == 0 and charts[name]["yAxis"][0]["name"]
    log = state.run.crime_log()
    assert len(log) == len(state.run.model.crimes)
    diff = difference_option(state.run.daily_rows(), state.run.daily_rows())
    left, right = diff["yAxis"]
    assert left["min"] == -left["max"] and right["min"] == -right["max"]  # zeros aligned
