"""The Safe City model: wires the city, offenders, police, cameras and dispatch, and schedules
what happens at set times. No I/O here, and no rules of the agents': each concept owns its own
(abm.targets, abm.crimes, abm.patrol, abm.presence, abm.dispatch, abm.cameras, abm.beliefs).

Time is in minutes (``model.time``). Everything that happens at a moment is an event: the
offenders' and units' own (trips, targets met, patrol stops, scenes) on the model's agenda
(``abm.agenda``), the occasional rest (calls, footage, cameras failing and repaired, daily
bookkeeping) with Mesa's ``schedule_event``. Nothing is stepped per minute, so a year of a city
costs what happens in it, not how many minutes it has.
"""

from __future__ import annotations

import io
import pickle

import mesa
import numpy as np
from mesa.discrete_space import Network
from mesa.time import Priority, Schedule

from abm.agenda import Agenda
from abm.beliefs import Beliefs
from abm.cameras import CameraSystem
from abm.config import MUTABLE, Config, ConfigError
from abm.crimes import ArrestCurve, ArrestMode, Crime
from abm.daytime import Clock
from abm.dispatch import Dispatcher
from abm.mesa_adapter import stop_stepping
from abm.metrics import Accounts, Recorder
from abm.offenders import Offender, Trips
from abm.patrol import HOTSPOT_REFRESH_MIN, Patrol
from abm.police import PoliceUnit
from abm.presence import Presence
from abm.streets import City, build_city
from abm.targets import Targets
from abm.timeline import Timeline
from abm.units import MINUTES_PER_DAY, MINUTES_PER_HOUR


def city_seed(config: Config) -> int:
    """The city's own seed: city.seed when fixed, else the run's seed."""
    return config.city.seed if config.city.seed is not None else config.run.seed


class SafeCityModel(mesa.Model):
    """Offenders, police units and failing cameras on a street graph."""

    agenda_type: type[Agenda] = Agenda  # the benchmark puts a counting one in its place

    def __init__(self, config: Config | None = None, city: City | None = None) -> None:
        config = config or Config()
        super().__init__(rng=config.run.seed)
        self.initial_config = config
        self.config = config.model_copy(deep=True)  # live settings; a timeline may change them
        stop_stepping(self)  # pure discrete-event: nothing happens because a minute passed
        # Offenders' and units' own events go on the agenda, the rest on Mesa's event list.
        self.agenda = self.agenda_type(self)
        config = self.config
        self.city = city or build_city(config.city, city_seed(config))
        # The street graph as Mesa's space; the cameras stand in its cells. Offenders and units
        # move continuously between events, so where they are is asked of them (``positions``).
        self.space = Network(self.city.graph, layout=self.city.positions(), random=self.random)
        self.crimes: list[Crime] = []
        self.arrests = 0
        self.clock = Clock(config.daytime)
        self.targets = Targets(self)
        self.arrest_curve = ArrestCurve(config.police)
        self.recorder = Recorder(self)
        self.presence = Presence(self)
        self.dispatcher = Dispatcher(self)
        self.patrol = Patrol(self)
        self.offenders = self._create_offenders()
        self.trips = Trips(self, self.offenders)
        self.units = [PoliceUnit(self, start, beat)
                      for start, beat in self.patrol.posts(self.units_on_duty())]
        self.leaving: list[PoliceUnit] = []
        self.dispatcher.units = self.units
        # Cameras last, on their own stream: a twin without cameras keeps the same people.
        self.cameras = CameraSystem(self, config.cameras)
        # Beliefs about cameras travel by word of mouth drawn from a stream of their own.
        self.beliefs = Beliefs(self, len(self.offenders), len(self.cameras.cameras),
                               self.cameras.rng.spawn(1)[0])
        self.accounts = Accounts(self)
        self.timeline = Timeline(self)
        self._install = self.schedule_event(self.install_cameras,
                                            at=config.cameras.install_day * MINUTES_PER_DAY)
        self.schedule_recurring(self.timeline.advance_trend,
                                Schedule(interval=MINUTES_PER_DAY, start=MINUTES_PER_DAY),
                                priority=Priority.HIGH)
        self.schedule_recurring(self.patrol.refresh,
                                Schedule(interval=HOTSPOT_REFRESH_MIN, start=HOTSPOT_REFRESH_MIN))
        self.schedule_recurring(self.recorder.close_day,
                                Schedule(interval=MINUTES_PER_DAY, start=MINUTES_PER_DAY))
        if self.clock.shifts:
            self.schedule_recurring(self.change_shift,
                                    Schedule(interval=MINUTES_PER_HOUR, start=MINUTES_PER_HOUR))
        self.trips.start()
        for unit in self.units:
            unit.patrol()

    def _create_offenders(self) -> list[Offender]:
        s, city = self.config.offenders, self.city
        homes = self.rng.choice(city.n, size=s.count, p=city.residents / city.residents.sum())
        dest = city.destinations
        offenders = []
        # With a decay scale near zero, distances over it overflow to infinity and the decay
        # to nothing: the floor below then weighs those places alike, which is meant.
        with np.errstate(over="ignore"):
            for index, home in enumerate(homes):
                d = np.linalg.norm(city.xy[dest] - city.xy[home], axis=1)
                w = np.exp(-d / s.anchor_distance_m) * city.attractiveness[dest] + 1e-12
                k = min(s.anchors, len(dest))
                anchors = self.rng.choice(dest, size=k, replace=False, p=w / w.sum())
                offenders.append(Offender(self, index, int(home), anchors))
        return offenders

    @property
    def hotspots(self) -> np.ndarray:
        """The places hot-spot patrol cycles through (node ids, sorted)."""
        return self.patrol.hotspots

    # --- what happens ---------------------------------------------------------------------

    def commit_crime(self, offender: Offender, node: int, cameras: np.ndarray,
                     camera_risk: float, police_present: bool) -> Crime:
        """A crime happens: the record, the places near it, patrol's incidents, the record of
        the day, and the call (or, unreported, what the offender learns at once)."""
        crime = Crime(self, offender, node, cameras, camera_risk, police_present)
        self.crimes.append(crime)
        self.targets.crime_at(node, self.time)
        self.recorder.crime(crime)
        self.patrol.note(crime)
        if crime.reported:
            delay = crime.report_delay() + self.config.police.dispatch_delay_min
            self.schedule_event(crime.call, after=delay)
        else:
            crime.settle(False)
        return crime

    def arrest(self, crime: Crime, mode: ArrestMode) -> None:
        crime.arrested = True
        crime.arrest_mode = mode
        crime.arrest_time_min = self.time
        self.arrests += 1
        self.recorder.arrest(crime)
        crime.offender.jail()

    # --- changes during a run -------------------------------------------------------------

    def install_cameras(self) -> None:
        self.accounts.accrue()
        self.cameras.install()

    def units_on_duty(self) -> int:
        """Police units on duty now: ``police.units`` times the hour's share."""
        return round(self.config.police.units * self.clock.on_duty(self.time))

    def change_shift(self) -> None:
        """Hourly, with shifts: units come on duty or stand down."""
        self.accounts.accrue()
        self.set_police_units(self.units_on_duty())

    def settings_changed(self, keys: set[str]) -> None:
        """Tell the parts that act on changed settings (called by the timeline)."""
        if "police.units" in keys:
            self.set_police_units(self.units_on_duty())
        self.patrol.settings_changed(keys)
        if "cameras.repair" in keys and self.config.cameras.repair:
            self.cameras.resume_repairs()
        if "cameras.obstruction_mtbf_days" in keys:
            self.cameras.reschedule_obstructions()

    def set_police_units(self, n: int) -> None:
        """Add units (they start patrolling) or stand down the newest ones."""
        while len(self.units) < n:
            unit = PoliceUnit(self, *self.patrol.post())
            self.units.append(unit)
            unit.patrol()
        while len(self.units) > n:
            unit = self.units.pop()
            self.leaving.append(unit)  # keeps a busy unit alive until it clears its call
            unit.stand_down()

    # --- forks ----------------------------------------------------------------------------

    def fork(self, config: Config | None = None) -> SafeCityModel:
        """A copy of the model as it stands, to run on from here: bit for bit what this one
        would do. With ``config``, the copy runs on under those settings (``follow``). The
        city is shared, not copied: nothing in it changes but caches of what it computes."""
        shared = {id(self.city): self.city, id(self.city.graph): self.city.graph}
        buffer = io.BytesIO()
        writer = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        writer.persistent_id = lambda obj: id(obj) if id(obj) in shared else None
        writer.dump(self)
        buffer.seek(0)
        reader = pickle.Unpickler(buffer)
        reader.persistent_load = shared.__getitem__
        twin = reader.load()
        if config is not None:
            twin.follow(config)
        return twin

    def follow(self, config: Config) -> None:
        """Run on under ``config`` from now. It may differ from the settings so far only
        where a run can change: settings a timeline may change (they take their new values
        now, as a timeline change would), the timeline's changes still to come, the day the
        cameras go live if they are not live yet, and the run's length and name. A run forked
        before any of these made a difference is bit for bit a run with ``config`` from the
        start."""
        changes = self.config.differences(config)
        timeline = changes.pop("timeline", None)
        install = changes.pop("cameras.install_day", None)
        for key in ("run.days", "run.name"):
            changes.pop(key, None)
        fixed = sorted(set(changes) - MUTABLE)
        if fixed:
            raise ConfigError(f"{fixed[0]}: shaped the run from its start; a fork cannot "
                              "change it")
        if install is not None:
            if self.cameras.installed:
                raise ConfigError("cameras.install_day: the cameras are live already")
            self._install.cancel()
            self.config.cameras.install_day = install
            self._install = self.schedule_event(self.install_cameras,
                                                at=max(install * MINUTES_PER_DAY, self.time))
        if changes:
            self.accounts.accrue()
            self.config.assign(changes)
            self.settings_changed(set(changes))
        if timeline is not None:
            self.timeline.follow(config.timeline)
            self.config.timeline = list(config.timeline)
        self.config.run = config.run.model_copy()
        self.initial_config = config

    # --- running --------------------------------------------------------------------------

    def run_until(self, end_time: float) -> None:
        with self.agenda.until(end_time):
            super().run_until(end_time)

    def run_for(self, duration: float) -> None:
        self.run_until(self.time + duration)

    def run_days(self, days: float) -> None:
        self.run_for(days * MINUTES_PER_DAY)

    @property
    def day(self) -> float:
        return self.time / MINUTES_PER_DAY

    def positions(self) -> dict[str, np.ndarray]:
        """Where offenders (free) and units are now, as node ids, for maps."""
        now = self.time
        return {
            "offenders": np.array([o.position(now) for o in self.offenders if o.free],
                                  dtype=np.intp),
            "units": np.array([u.position(now) for u in self.units], dtype=np.intp),
            "units_busy": np.array([not u.free for u in self.units], dtype=bool),
        }
