"""A live run the app shows: a model built from a config, advanced by app frames.

Nothing here decides anything about crime or policing: it builds ``SafeCityModel`` from a
validated ``Config``, advances it with ``run_for`` and asks ``abm.metrics`` for the figures.
The owner (the app's session state) serialises the play loop and button clicks, which arrive
on different threads, with one lock per browser session.
"""

from __future__ import annotations

from collections import OrderedDict

from abm.config import Config
from abm.metrics import crime_frame, summarise
from abm.model import SafeCityModel, city_seed
from abm.streets import City, build_city
from abm.ui.frame import DEFAULT_STEP_MIN, frame
from abm.ui.map import FULL, LAYERS, View, renderer_for
from abm.units import hour_of


class CityCache:
    """Street graphs by settings and seed, so runs that ask for the same city share it.

    Building a city is deterministic in its settings and seed, so a cached city is identical to
    a fresh one; sharing it keeps a slider change from regenerating the streets and gives the
    two sides of compare mode the very same city. One cache per browser session: a city's
    route cache is not meant to be used from two threads at once.
    """

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._cities: OrderedDict[str, City] = OrderedDict()

    def get(self, config: Config) -> City:
        seed = city_seed(config)
        key = f"{config.city.model_dump_json()}|{seed}"
        city = self._cities.get(key)
        if city is None:
            city = self._cities[key] = build_city(config.city, seed)
            while len(self._cities) > self.size:
                self._cities.popitem(last=False)
        else:
            self._cities.move_to_end(key)
        return city


# How far a new run goes before its first map: a millionth of a minute, the clock still at 0.
OPENING_MIN = 1e-6


class Simulation:
    """One model the app shows, its latest map image and its summary figures."""

    def __init__(self, config: Config, city: City | None = None, name: str | None = None,
                 view: View = FULL, layers: dict[str, bool] | None = None,
                 model: SafeCityModel | None = None) -> None:
        self.config = config
        if model is None:
            model = SafeCityModel(config, city=city)
            # What is due at minute 0 (cameras going live on day 0, the first trips) happens
            # before the first map, so the opening map shows the town as it starts. Splitting
            # a run at any moment gives the same results (tests/test_ui.py checks the end
            # figures).
            model.run_until(OPENING_MIN)
        self.model = model
        self.renderer = renderer_for(self.model, name)
        self.renderer.set_view(view)
        self.renderer.set_layers(layers or LAYERS)
        self.image = self.renderer.png(self.model)
        self._summary: dict | None = None
        self._summary_at: tuple[float, int] | None = None

    def fork(self, config: Config, name: str | None, view: View,
             layers: dict[str, bool]) -> Simulation:
        """A run that starts as this one stands now and goes on under ``config``
        (``SafeCityModel.fork``)."""
        return Simulation(config, name=name, view=view, layers=layers,
                          model=self.model.fork(config))

    def show(self, view: View, layers: dict[str, bool]) -> None:
        """Show another part of the city or other layers, and redraw the map now."""
        self.renderer.set_view(view)
        self.renderer.set_layers(layers)
        self.image = self.renderer.png(self.model)

    def describe(self, fx: float, fy: float) -> str:
        """The tooltip at a point of the map image (shares of it from its top left)."""
        return self.renderer.describe(self.model, fx, fy)

    @property
    def day(self) -> float:
        return self.model.day

    @property
    def finished(self) -> bool:
        """The scenario's ``run.days`` have been simulated (the app may still go on)."""
        return self.model.day >= self.config.run.days

    def advance(self, step_min: float = DEFAULT_STEP_MIN) -> None:
        """One app frame: ``step_min`` simulated minutes, then the map redrawn."""
        self.image = frame(self.model, step_min)

    def summary(self) -> dict:
        """summary.json's figures for the run so far (computed once per model time)."""
        key = (self.model.time, len(self.model.crimes))
        if self._summary_at != key:
            self._summary = summarise(self.model, crime_frame(self.model.crimes))
            self._summary_at = key
        return self._summary

    def daily_rows(self) -> list[dict]:
        """The closed daily rows of the recorder so far (a copy, safe to plot)."""
        return list(self.model.recorder.rows)

    def crime_log(self):
        """The crime log so far, as crimes.parquet holds it (one row per crime)."""
        return crime_frame(self.model.crimes)

    def crimes_by_hour(self) -> tuple[list[int], list[int]]:
        """Crimes so far by hour of the day (0-23): all, and those on record."""
        true, recorded = [0] * 24, [0] * 24
        for crime in self.model.crimes:
            hour = hour_of(crime.time_min)
            true[hour] += 1
            recorded[hour] += crime.recorded
        return true, recorded

    def response_times(self) -> list[float]:
        """Response times (min) of calls answered so far."""
        return [c.response_time_min for c in self.model.crimes
                if c.response_time_min == c.response_time_min]  # drop NaN
