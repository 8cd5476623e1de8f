"""Per browser tab: the settings chosen, the live run(s) and the play loop's state.

Components read the reactive values here and call the methods; the methods turn a user's action
into a validated Config and fresh or advanced ``Simulation`` objects. Nothing from the browser
is trusted: every value is checked against its control (abm.ui.settings.checked) before
anything is built. Bad input never raises out of here: it becomes a one-line ``message`` and
the last good run stays on screen. When the tab's session ends, ``close`` drops its models.
"""

from __future__ import annotations

import logging
import math
import threading
from pathlib import Path
from typing import Any

import solara

from abm.comparison import Pair
from abm.config import Config, ConfigError
from abm.ui.frame import DEFAULT_STEP_MIN, STEP_CHOICES
from abm.ui.map import FULL, LAYERS
from abm.ui.replicates import Replicates
from abm.ui.scenarios import CONFIG_DIR, DEFAULT_SCENARIO, list_scenarios, load_scenario
from abm.ui.session import CityCache, Simulation
from abm.ui.settings import CONTRAST_KEYS, checked, edit
from abm.units import MINUTES_PER_DAY

log = logging.getLogger(__name__)

EXPLORE = "Explore"
COMPARE = "Compare"
LESSONS = "Lessons"
MODES = (EXPLORE, COMPARE, LESSONS)

# Replicate seeds a compare runs in the background, and the choices offered.
REPLICATE_CHOICES = (4, 8, 16, 32)
DEFAULT_REPLICATES = 8
# "Run to end" advances in this many pieces, drawing the map once after each.
FAST_PIECES = 12


def offered(names: list[str]) -> list[str]:
    """Scenario files the picker offers: benchmark workloads are not scenarios to explore."""
    return [n for n in names if not n.startswith("bench/")]


class AppState:
    """What one browser tab shows and the actions its controls take."""

    def __init__(self, scenario: str | None = DEFAULT_SCENARIO, config_dir=CONFIG_DIR,
                 pairs_dir=None) -> None:
        self.lock = threading.RLock()  # play loop and clicks come from different threads
        self.cities = CityCache()
        self.config_dir = config_dir
        self.scenarios = offered(list_scenarios(config_dir))
        self.scenario = solara.reactive(None)
        self.base = solara.reactive(Config())  # the scenario (or lesson step) as loaded
        self.config = solara.reactive(Config())
        self.contrast = solara.reactive({})  # compare mode: run B's changes to run A's settings
        self.control = solara.reactive(None)  # lesson mode: the step's control (run A)
        self.mode = solara.reactive(EXPLORE)
        self.playing = solara.reactive(False)
        self.fast = solara.reactive(False)  # playing to the end without drawing every frame
        self.step_min = solara.reactive(DEFAULT_STEP_MIN)
        self.replicate_count = solara.reactive(DEFAULT_REPLICATES)
        self.message = solara.reactive("")
        self.frame = solara.reactive(0)  # bumps after every frame: maps and clock redraw
        self.days = solara.reactive((0, 0))  # (run generation, closed days): charts redraw
        self.view = solara.reactive(FULL)  # the part of the city both maps show
        self.layers = solara.reactive(dict(LAYERS))
        self.tips = solara.reactive({})  # run index -> (tooltip text, x, y) on its map
        self.predictions = solara.reactive({})  # lesson step -> the choice committed
        self.lesson_step = solara.reactive(None)  # (lesson name, step index) when loaded
        self.replicates = Replicates(pairs_dir)
        self.runs: list[Simulation] = []
        self.map_name: str | None = None  # the city's name on the map
        self.source: Path | None = None  # the scenario file shown
        self.closed = False
        self._city = None
        self._generation = 0
        if scenario is not None and scenario in self.scenarios:
            self.choose(scenario)
        else:
            self.restart()

    # --- what is on screen ----------------------------------------------------------------

    @property
    def comparing(self) -> bool:
        return self.mode.value == COMPARE

    @property
    def paired(self) -> bool:
        """Two live runs: compare mode, or a lesson step beside its control."""
        return self.comparing or (self.mode.value == LESSONS and self.control.value is not None)

    @property
    def run(self) -> Simulation | None:
        return self.runs[0] if self.runs else None

    def scenario_path(self) -> Path | None:
        return self.source

    def contrast_config(self) -> Config:
        """Run B's settings: run A's with the contrast applied (same seed, same city)."""
        return edit(self.config.value, self.contrast.value)

    def configs(self) -> list[Config]:
        """The settings of the live runs, run A first."""
        config = self.config.value
        if self.comparing:
            return [config, self.contrast_config()]
        if self.mode.value == LESSONS and self.control.value is not None:
            return [self.control.value, config]
        return [config]

    def compare_pair(self) -> Pair:
        """Compare mode's replicates: A and B over the chosen number of seeds."""
        a = self.config.value
        return Pair(a, self.contrast_config(), self.replicate_count.value, a.run.seed)

    # --- actions --------------------------------------------------------------------------

    def choose(self, name: str) -> None:
        """Load a scenario file; a broken file leaves the current run and says why."""
        if name not in self.scenarios:
            self.message.set(f"scenario: {str(name)[:80]!r} is not a listed scenario")
            return
        try:
            config = load_scenario(name, self.config_dir)
        except ConfigError as exc:
            self.message.set(str(exc))
            return
        self.lesson_step.set(None)
        self.load(config, name, source=Path(self.config_dir) / name)

    def load(self, config: Config, label: str, control: Config | None = None,
             place: str | None = None, source: Path | None = None) -> None:
        """Show ``config`` as if it were a scenario called ``label`` (a lesson step, say): the
        panel shows its settings and the run restarts from day 0 with them; ``control`` is a
        lesson step's control, run beside it; ``place`` names the city on the map (default:
        the scenario file's name); ``source`` is the scenario file, for the info panel."""
        self.map_name = place or Path(label).stem
        self.source = source
        self.scenario.set(label)
        self.base.set(config)
        self.config.set(config)
        self.control.set(control)
        self.restart()

    def report(self, message: str) -> None:
        """Say in one line why an action was refused; the current run stays."""
        self.message.set(message)

    def change(self, key: str, value: Any) -> None:
        """Change one setting of run A; the run restarts from day 0 with it."""
        self.change_many({key: value})

    def change_many(self, changes: dict[str, Any]) -> None:
        """Change settings of run A together; the run restarts from day 0 with them."""
        if not isinstance(changes, dict):
            self.message.set("settings: expected a mapping of settings to values")
            return
        try:
            changes, notes = checked(self.config.value, changes)
            config = edit(self.config.value, changes)
        except ConfigError as exc:
            self.message.set(str(exc))
            return
        self.config.set(config)
        self.restart()
        if notes:
            self.message.set(notes[0])

    def change_contrast(self, changes: dict[str, Any], replace: bool = False) -> None:
        """Change run B's differences from run A (``None`` drops a key; ``replace`` starts
        from none); both runs restart together."""
        if not isinstance(changes, dict):
            self.message.set("compare: expected a mapping of settings to values")
            return
        dropped = {k for k, v in changes.items() if v is None}
        unknown = sorted(str(k) for k in set(changes) - set(CONTRAST_KEYS))
        if unknown:
            self.message.set(f"compare: {unknown[0][:60]} cannot differ between the two runs")
            return
        try:
            kept, notes = checked(self.config.value,
                                  {k: v for k, v in changes.items() if v is not None},
                                  CONTRAST_KEYS)
            contrast = {**({} if replace else self.contrast.value), **kept}
            contrast = {k: v for k, v in contrast.items() if k not in dropped}
            edit(self.config.value, contrast)
        except ConfigError as exc:
            self.message.set(str(exc).replace("settings:", "run B:", 1))
            return
        self.contrast.set(contrast)
        self.restart()
        if notes:
            self.message.set("run B: " + notes[0])

    def fork_b(self) -> None:
        """Compare mode: run B starts again as a copy of run A as it stands now and goes on
        under B's settings, so the two part ways only from this moment. B's changes must be
        ones a run can make on the way (not the number of cameras, say)."""
        if not self.comparing or len(self.runs) != 2:
            self.message.set("fork: needs compare mode's two runs")
            return
        layers, view = self.layers.value, self.view.value
        try:
            config = self.contrast_config()
            with self.lock:
                a = self.runs[0]
                self.runs = [a, a.fork(config, self.map_name, view, layers)]
        except ConfigError as exc:
            self.message.set(f"run B: {exc}")
            return
        self.message.set("")
        self._changed()

    def set_mode(self, mode: str) -> None:
        """Switch view; the runs restart when the view runs other settings (one run or two)."""
        if mode not in MODES:
            self.message.set(f"mode: choose one of {', '.join(MODES)}")
            return
        before = self._shown()
        if mode != self.mode.value:
            self.replicates.cancel()  # each view starts the replicates it shows
        self.mode.set(mode)
        if self._shown() != before:
            self.restart()
        elif mode == COMPARE:
            self._start_compare_replicates()

    def set_speed(self, label: str) -> None:
        if label not in STEP_CHOICES:
            self.message.set(f"speed: choose one of {', '.join(STEP_CHOICES)}")
            return
        self.step_min.set(STEP_CHOICES[label])

    def set_replicates(self, count: Any) -> None:
        if count not in REPLICATE_CHOICES or isinstance(count, bool):
            self.message.set(f"replicates: choose one of "
                             f"{', '.join(map(str, REPLICATE_CHOICES))}")
            return
        self.replicate_count.set(count)
        if self.comparing:
            self._start_compare_replicates()

    # --- the maps -------------------------------------------------------------------------

    def zoom(self, fx: Any, fy: Any, factor: Any) -> None:
        """Zoom both maps about a point (shares of the map image from its top left)."""
        point = _shares(fx, fy)
        if point is None or not _number(factor) or factor <= 0:
            return
        self._set_view(self.view.value.zoom(*point, float(factor)))

    def pan(self, dfx: Any, dfy: Any) -> None:
        """Move both maps by a drag across (dfx, dfy) shares of the map image."""
        if not (_number(dfx) and _number(dfy)):
            return
        self._set_view(self.view.value.pan(max(-1.0, min(1.0, dfx)),
                                           max(-1.0, min(1.0, dfy))))

    def reset_view(self) -> None:
        self._set_view(FULL)

    def set_layer(self, name: Any, on: Any) -> None:
        if name not in LAYERS or not isinstance(on, bool):
            self.message.set(f"map: {str(name)[:40]!r} is not a layer")
            return
        self.layers.set({**self.layers.value, name: on})
        self._redraw()

    def hover(self, index: Any, point: Any) -> None:
        """The tooltip of what is under the pointer on a run's map (None: pointer left)."""
        tips = dict(self.tips.value)
        if not isinstance(index, int) or isinstance(index, bool):
            return
        shares = _shares(*point) if isinstance(point, list | tuple) and len(point) == 2 \
            else None
        text = ""
        if shares is not None:
            with self.lock:
                if 0 <= index < len(self.runs):
                    text = self.runs[index].describe(*shares)
        if text:
            tips[index] = (text, *shares)
        else:
            tips.pop(index, None)
        if tips != self.tips.value:
            self.tips.set(tips)

    def _set_view(self, view) -> None:
        if view != self.view.value:
            self.view.set(view)
            self._redraw()

    def _redraw(self) -> None:
        view, layers = self.view.value, self.layers.value
        with self.lock:
            for run in self.runs:
                run.show(view, layers)
        self.frame.set(self.frame.value + 1)

    # --- running --------------------------------------------------------------------------

    def restart(self) -> None:
        """Build fresh run(s) at day 0 from the current settings."""
        if self.closed:
            return
        self.fast.set(False)
        self.tips.set({})
        try:
            configs = self.configs()  # reactives outside the lock
            layers, view = self.layers.value, self.view.value
            with self.lock:
                city = self.cities.get(configs[0])
                if city is not self._city:
                    view = FULL  # another city: show it whole
                runs = [Simulation(each, city, self.map_name, view, layers)
                        for each in configs]
                self.runs = runs
                self._city = city
                self._generation += 1
            self.view.set(view)
        except ConfigError as exc:
            self._fail(str(exc))
            return
        except Exception as exc:  # keep the app up; the server log has the traceback
            log.exception("building the model failed")
            self._fail(f"could not build the model: {exc.__class__.__name__}: {exc}")
            return
        self.message.set("")
        if self.comparing:
            self._start_compare_replicates()
        self._changed()

    def step(self) -> bool:
        """One frame: every run advances ``step_min`` (never past ``run.days``) in lockstep;
        playing to the end, a twelfth of the run, drawn once."""
        step_min = self.step_min.value  # read reactives outside the lock
        fast = self.fast.value
        try:
            with self.lock:
                run = self.run
                if run is None or run.finished:
                    advanced = False
                else:
                    end = run.config.run.days * MINUTES_PER_DAY
                    if fast:
                        step_min = max(step_min, end / FAST_PIECES)
                    # Frames end on whole steps (an hour, a day), never past run.days.
                    now = run.model.time
                    target = min(end, (math.floor(now / step_min + 1e-9) + 1) * step_min)
                    minutes = target - now
                    for each in self.runs:
                        each.advance(minutes)
                    advanced = True
                finished = run is None or run.finished
        except Exception as exc:  # keep the app up; the server log has the traceback
            log.exception("advancing the model failed")
            self._fail(f"the model stopped: {exc.__class__.__name__}: {exc}")
            return False
        if finished:
            self.playing.set(False)
            self.fast.set(False)
        if advanced:
            self._changed()
        return advanced

    def play(self) -> None:
        if self.run is not None and not self.run.finished:
            self.playing.set(True)

    def run_to_end(self) -> None:
        """Play to ``run.days`` in a few large steps, without drawing every frame."""
        if self.run is not None and not self.run.finished:
            self.fast.set(True)
            self.playing.set(True)

    def pause(self) -> None:
        self.playing.set(False)
        self.fast.set(False)

    def close(self) -> None:
        """The tab's session ended: stop the play loop and the replicates, drop the models."""
        self.closed = True
        self.playing.set(False)
        self.replicates.cancel()
        with self.lock:
            self.runs = []
            self.cities = CityCache()
            self._city = None

    # --- internals ------------------------------------------------------------------------

    def _shown(self) -> list[str]:
        try:
            return [c.model_dump_json() for c in self.configs()]
        except ConfigError:
            return []

    def _start_compare_replicates(self) -> None:
        try:
            self.replicates.start(self.compare_pair())
        except ConfigError as exc:
            self.message.set(str(exc))

    def _fail(self, message: str) -> None:
        self.playing.set(False)
        self.message.set(message)

    def _changed(self) -> None:
        # Days first: the charts then update in the same pass as the maps and the figures.
        run = self.run
        closed = len(run.model.recorder.rows) if run is not None else 0
        self.days.set((self._generation, closed))
        self.frame.set(self.frame.value + 1)


def _number(x: Any) -> bool:
    """A finite number of sensible size (what the page's own controls send)."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return False
    try:
        return math.isfinite(float(x))
    except OverflowError:
        return False


def _shares(fx: Any, fy: Any) -> tuple[float, float] | None:
    """A point from the browser as shares of the map image, or None if it is not one."""
    if not (_number(fx) and _number(fy)):
        return None
    return min(max(float(fx), 0.0), 1.0), min(max(float(fy), 0.0), 1.0)


app_context = solara.create_context(None)


def use_app_state() -> AppState:
    """The tab's AppState, provided by the page."""
    state = solara.use_context(app_context)
    if state is None:
        raise RuntimeError("no AppState provided: wrap the page in app_context.provide")
    return state
