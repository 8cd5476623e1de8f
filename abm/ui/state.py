"""Per browser tab: the settings chosen, the live run(s) and the play loop's state.

Components read the reactive values here and call the methods; the methods turn a user's action
into a validated Config and fresh or advanced ``Simulation`` objects. Bad input never raises
out of here: it becomes a one-line ``message`` and the last good run stays on screen.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import solara

from abm.config import Config, ConfigError
from abm.model import MINUTES_PER_DAY
from abm.ui.frame import DEFAULT_STEP_MIN
from abm.ui.scenarios import CONFIG_DIR, DEFAULT_SCENARIO, list_scenarios, load_scenario
from abm.ui.session import CityCache, Simulation
from abm.ui.settings import CONTRAST_KEYS, edit

log = logging.getLogger(__name__)

EXPLORE = "Explore"
COMPARE = "Compare"
LESSONS = "Lessons"


class AppState:
    """What one browser tab shows and the actions its controls take."""

    def __init__(self, scenario: str | None = DEFAULT_SCENARIO, config_dir=CONFIG_DIR) -> None:
        self.lock = threading.RLock()  # play loop and clicks come from different threads
        self.cities = CityCache()
        self.config_dir = config_dir
        self.scenarios = list_scenarios(config_dir)
        self.scenario = solara.reactive(None)
        self.config = solara.reactive(Config())
        self.contrast = solara.reactive({})  # compare mode: run B's changes to run A's settings
        self.mode = solara.reactive(EXPLORE)
        self.playing = solara.reactive(False)
        self.step_min = solara.reactive(DEFAULT_STEP_MIN)
        self.message = solara.reactive("")
        self.frame = solara.reactive(0)  # bumps after every frame: maps and clock redraw
        self.days = solara.reactive((0, 0))  # (run generation, closed days): charts redraw
        self.runs: list[Simulation] = []
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
    def run(self) -> Simulation | None:
        return self.runs[0] if self.runs else None

    def contrast_config(self) -> Config:
        """Run B's settings: run A's with the contrast applied (same seed, same city)."""
        return edit(self.config.value, self.contrast.value)

    # --- actions --------------------------------------------------------------------------

    def choose(self, name: str) -> None:
        """Load a scenario file; a broken file leaves the current run and says why."""
        try:
            config = load_scenario(name, self.config_dir)
        except ConfigError as exc:
            self.message.set(str(exc))
            return
        self.load(config, name)

    def load(self, config: Config, label: str) -> None:
        """Show ``config`` as if it were a scenario called ``label`` (a lesson step, say): the
        panel shows its settings and the run restarts from day 0 with them."""
        self.scenario.set(label)
        self.config.set(config)
        self.restart()

    def report(self, message: str) -> None:
        """Say in one line why an action was refused; the current run stays."""
        self.message.set(message)

    def change(self, key: str, value: Any) -> None:
        """Change one setting of run A; the run restarts from day 0 with it."""
        self.change_many({key: value})

    def change_many(self, changes: dict[str, Any]) -> None:
        """Change settings of run A together; the run restarts from day 0 with them."""
        try:
            config = edit(self.config.value, changes)
        except ConfigError as exc:
            self.message.set(str(exc))
            return
        self.config.set(config)
        self.restart()

    def change_contrast(self, changes: dict[str, Any], replace: bool = False) -> None:
        """Change run B's differences from run A (``None`` drops a key; ``replace`` starts
        from none); both runs restart together."""
        contrast = {**({} if replace else self.contrast.value), **changes}
        contrast = {k: v for k, v in contrast.items() if v is not None}
        unknown = sorted(set(contrast) - set(CONTRAST_KEYS))
        if unknown:
            self.message.set(f"compare: {unknown[0]} cannot differ between the two runs")
            return
        try:
            edit(self.config.value, contrast)
        except ConfigError as exc:
            self.message.set(str(exc).replace("settings:", "run B:", 1))
            return
        self.contrast.set(contrast)
        self.restart()

    def set_mode(self, mode: str) -> None:
        """Switch view; entering or leaving compare restarts so the two runs start together."""
        was = self.comparing
        self.mode.set(mode)
        if self.comparing != was:
            self.restart()

    def restart(self) -> None:
        """Build fresh run(s) at day 0 from the current settings."""
        config, comparing = self.config.value, self.comparing  # reactives outside the lock
        try:
            configs = [config] + ([self.contrast_config()] if comparing else [])
            with self.lock:
                city = self.cities.get(configs[0])
                runs = [Simulation(each, city) for each in configs]
                self.runs = runs
                self._generation += 1
        except ConfigError as exc:
            self._fail(str(exc))
            return
        except Exception as exc:  # keep the app up; the server log has the traceback
            log.exception("building the model failed")
            self._fail(f"could not build the model: {exc.__class__.__name__}: {exc}")
            return
        self.message.set("")
        self._changed()

    def step(self) -> bool:
        """One frame: every run advances ``step_min`` (never past ``run.days``) in lockstep."""
        step_min = self.step_min.value  # read reactives outside the lock
        try:
            with self.lock:
                run = self.run
                if run is None or run.finished:
                    advanced = False
                else:
                    end = run.config.run.days * MINUTES_PER_DAY
                    minutes = min(step_min, end - run.model.time)
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
        if advanced:
            self._changed()
        return advanced

    def play(self) -> None:
        if self.run is not None and not self.run.finished:
            self.playing.set(True)

    def pause(self) -> None:
        self.playing.set(False)

    # --- internals ------------------------------------------------------------------------

    def _fail(self, message: str) -> None:
        self.playing.set(False)
        self.message.set(message)

    def _changed(self) -> None:
        # Days first: the charts then update in the same pass as the maps and the figures.
        run = self.run
        closed = len(run.model.recorder.rows) if run is not None else 0
        self.days.set((self._generation, closed))
        self.frame.set(self.frame.value + 1)


app_context = solara.create_context(None)


def use_app_state() -> AppState:
    """The tab's AppState, provided by the page."""
    state = solara.use_context(app_context)
    if state is None:
        raise RuntimeError("no AppState provided: wrap the page in app_context.provide")
    return state
