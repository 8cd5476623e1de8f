"""The Safe City model: wires the city, offenders, police, cameras and dispatch. No I/O here.

Time is in minutes (``model.time``). Everything that happens at a moment is an event: the
offenders' and units' own (trips, targets met, patrol stops, scenes) on the model's agenda
(``abm.agenda``), the occasional rest (calls, footage, cameras failing and repaired, daily
bookkeeping) with Mesa's ``schedule_event``. Nothing is stepped per minute, so a year of a city
costs what happens in it, not how many minutes it has.
"""

from __future__ import annotations

import math
from collections import deque

import mesa
import numpy as np
from mesa.discrete_space import Network
from mesa.time import Priority, Schedule

from abm.agenda import Agenda
from abm.beliefs import Beliefs
from abm.cameras import CameraSystem
from abm.config import Config
from abm.crimes import ArrestMode, Crime, NearRepeats
from abm.dispatch import Dispatcher
from abm.metrics import Accounts, Recorder
from abm.offenders import Offender, Trips
from abm.police import PatrolPool, PoliceUnit, Presence
from abm.streets import City, build_city
from abm.timeline import Timeline
from abm.units import MINUTES_PER_DAY

# How often hot-spot patrol re-reads recorded crime, and how far back it looks (assumption).
HOTSPOT_REFRESH_MIN = MINUTES_PER_DAY
HOTSPOT_WINDOW_MIN = 90 * MINUTES_PER_DAY
PATROL_POOL = 256
# Settings a unit's planned patrol tour depends on: a change makes units plan afresh.
PATROL_KEYS = frozenset({"police.patrol", "police.hotspots", "police.dwell_min",
                         "police.residual_deterrence_min", "police.residual_saturation_min"})


def city_seed(config: Config) -> int:
    """The city's own seed: city.seed when fixed, else the run's seed."""
    return config.city.seed if config.city.seed is not None else config.run.seed


def arrest_curve(settings) -> tuple[float, float]:
    """(beta, log T50) of p(T) = p_max / (1 + exp(beta (ln T - ln T50))).

    Chosen so that p(T_ref) = arrest_ref_prob and a 10% longer response at T_ref lowers the
    chance by ``arrest_drop_per_10pct`` (Blanes i Vidal & Kirchmaier 2018).
    """
    pmax, pref, drop, tref = (settings.arrest_max_prob, settings.arrest_ref_prob,
                              settings.arrest_drop_per_10pct, settings.arrest_ref_min)
    if pref == 0:
        return 1.0, -math.inf
    odds_ref = pmax / pref - 1.0
    odds_later = pmax / (pref - drop) - 1.0
    beta = math.log(odds_later / odds_ref) / math.log(1.1) if drop > 0 else 0.0
    log_t50 = math.log(tref) - (math.log(odds_ref) / beta if beta > 0 else 0.0)
    return beta, log_t50


class SafeCityModel(mesa.Model):
    """Offenders, police units and failing cameras on a street graph."""

    agenda_type: type[Agenda] = Agenda  # the benchmark puts a counting one in its place

    def __init__(self, config: Config | None = None, city: City | None = None) -> None:
        config = config or Config()
        super().__init__(rng=config.run.seed)
        self.initial_config = config
        self.config = config.model_copy(deep=True)  # live settings; a timeline may change them
        # Pure discrete-event model: drop Mesa's per-minute step event, as Mesa's own event
        # simulator does. `model.step()` still advances one minute, processing due events.
        default_schedule = getattr(self, "_default_schedule", None)
        if default_schedule is not None:
            default_schedule.stop()
        # Offenders' and units' own events go on the agenda, the rest on Mesa's event list.
        self.agenda = self.agenda_type(self)
        config = self.config
        self.city = city or build_city(config.city, city_seed(config))
        self.space = Network(self.city.graph, layout=self.city.positions(), random=self.random)
        self.crimes: list[Crime] = []
        # Reported crimes of the hot-spot window, oldest first, and their count by place.
        self._reported: deque[tuple[float, int]] = deque()
        self._reported_counts = np.zeros(self.city.n)
        self.arrests = 0
        self.crime_multiplier = 1.0  # exogenous trend on offending (1 = none)
        self.near_repeats = NearRepeats(self)
        self._beta, self._log_t50 = arrest_curve(config.police)
        self.recorder = Recorder(self)
        self.presence = Presence(self)
        self.dispatcher = Dispatcher(self)
        self.patrol_pool = np.sort(self.rng.choice(self.city.n, size=min(PATROL_POOL, self.city.n),
                                                   replace=False))
        self.random_pool = PatrolPool(self.city.router, self.patrol_pool)
        self.hotspot_pool = PatrolPool(self.city.router, self._top_places(self._first_hotspots()))
        self.offenders = self._create_offenders()
        self.trips = Trips(self, self.offenders)
        self.units = self._create_units()
        self.leaving: list[PoliceUnit] = []
        self.dispatcher.units = self.units
        # Cameras last, on their own stream: a twin without cameras keeps the same people.
        self.cameras = CameraSystem(self, config.cameras)
        # Beliefs about cameras travel by word of mouth drawn from a stream of their own.
        self.beliefs = Beliefs(self, len(self.offenders), len(self.cameras.cameras),
                               self.cameras.rng.spawn(1)[0])
        self.accounts = Accounts(self)
        self.timeline = Timeline(self)
        self.schedule_event(self.install_cameras,
                            at=config.cameras.install_day * MINUTES_PER_DAY)
        self.schedule_recurring(self.timeline.advance_trend,
                                Schedule(interval=MINUTES_PER_DAY, start=MINUTES_PER_DAY),
                                priority=Priority.HIGH)
        self.schedule_recurring(self.refresh_hotspots,
                                Schedule(interval=HOTSPOT_REFRESH_MIN, start=HOTSPOT_REFRESH_MIN))
        self.schedule_recurring(self.recorder.close_day,
                                Schedule(interval=MINUTES_PER_DAY, start=MINUTES_PER_DAY))
        self.trips.start()
        for unit in self.units:
            unit.patrol()

    # --- construction ---------------------------------------------------------------------

    def _create_offenders(self) -> list[Offender]:
        s, city = self.config.offenders, self.city
        homes = self.rng.choice(city.n, size=s.count, p=city.residents / city.residents.sum())
        dest = city.destinations
        offenders = []
        for index, home in enumerate(homes):
            d = np.linalg.norm(city.xy[dest] - city.xy[home], axis=1)
            w = np.exp(-d / s.anchor_distance_m) * city.attractiveness[dest] + 1e-12
            k = min(s.anchors, len(dest))
            anchors = self.rng.choice(dest, size=k, replace=False, p=w / w.sum())
            offenders.append(Offender(self, index, int(home), anchors))
        return offenders

    def _create_units(self) -> list[PoliceUnit]:
        n = self.config.police.units
        if n == 0:
            return []
        starts = self.rng.choice(self.patrol_pool, size=n, replace=n > len(self.patrol_pool))
        # Beats: each pool place belongs to the unit that starts nearest to it.
        pool_xy = self.city.xy[self.patrol_pool]
        d = np.linalg.norm(pool_xy[:, None, :] - self.city.xy[starts][None, :, :], axis=2)
        owner = np.argmin(d, axis=1)
        units = []
        for i, start in enumerate(starts):
            beat = self.patrol_pool[owner == i]
            if len(beat) == 0:
                beat = np.array([start])
            units.append(PoliceUnit(self, int(start), PatrolPool(self.city.router, beat)))
        return units

    def _new_unit(self) -> PoliceUnit:
        start = int(self.patrol_pool[self.random.randrange(len(self.patrol_pool))])
        return PoliceUnit(self, start, self.random_pool)

    def _first_hotspots(self) -> np.ndarray:
        """What hot-spot patrol ranks places by before any incident is on record."""
        if self.config.police.initial_hotspots == "random":
            return self.rng.random(self.city.n)
        return self.city.attractiveness

    def _top_places(self, score: np.ndarray) -> np.ndarray:
        """The places with the highest scores, ties going to the lower node id; sorted."""
        n, k = self.city.n, min(self.config.police.hotspots, self.city.n)
        if k == n:
            return np.arange(n)
        threshold = -np.partition(-score, k - 1)[k - 1]  # the k-th highest score
        above = np.flatnonzero(score > threshold)
        tied = np.flatnonzero(score == threshold)[: k - len(above)]
        return np.sort(np.concatenate([above, tied]))

    @property
    def hotspots(self) -> np.ndarray:
        """The places hot-spot patrol cycles through (node ids, sorted)."""
        return self.hotspot_pool.index

    # --- rules the agents consult ---------------------------------------------------------

    def opportunity_hazard(self, nodes: np.ndarray, now: float,
                           attractiveness: np.ndarray | None = None) -> np.ndarray:
        """Hazard of meeting a suitable target at each place passed: the chance of one is
        1 - exp(-hazard), close to the hazard itself when small.

        ``attractiveness`` may be given for the places when the caller has it at hand.
        """
        if attractiveness is None:
            attractiveness = self.city.attractiveness[nodes]
        rate = self.config.offenders.opportunity_rate * self.crime_multiplier
        return rate * attractiveness + self.near_repeats.extra(nodes, now)

    def targets_met(self, nodes: np.ndarray, now: float, attractiveness: np.ndarray,
                    total_attractiveness: float) -> list[int]:
        """Where along a route suitable targets turn up (indices into ``nodes``), each place
        independently with chance 1 - exp(-hazard).

        Drawn as the places where the hazard summed along the route first reaches successive
        exponential clocks (restarted after each place with a target): exactly that chance,
        and a single draw for the many trips that meet nothing.
        """
        clock = self.random.expovariate(1.0)
        base = self.config.offenders.opportunity_rate * self.crime_multiplier \
            * total_attractiveness
        near = self.near_repeats
        if clock > base + near.most(len(nodes), now) or clock > base + near.total(nodes, now):
            return []
        summed = np.cumsum(self.opportunity_hazard(nodes, now, attractiveness))
        hits = []
        while clock <= summed[-1]:
            i = int(np.searchsorted(summed, clock))
            hits.append(i)
            clock = summed.item(i) + self.random.expovariate(1.0)
        return hits

    def patrol_horizon(self, now: float) -> float:
        """When hot spots are next re-read after ``now``: patrol tours are planned up to then."""
        return (math.floor(now / HOTSPOT_REFRESH_MIN) + 1) * HOTSPOT_REFRESH_MIN

    def police_present(self, node: int) -> bool:
        return self.presence.present(node, self.time)

    def guard(self, node: int, until: float) -> None:
        """A unit stopped at a place deters within its presence radius until a time."""
        self.presence.guard(node, until)

    def police_arrest_prob(self, response_min: float) -> float:
        """On-scene arrest chance for a response time (logistic in log time)."""
        pmax = self.config.police.arrest_max_prob
        if self._log_t50 == -math.inf:
            return 0.0
        if response_min <= 0:
            return pmax
        z = self._beta * (math.log(response_min) - self._log_t50)
        return pmax / (1.0 + math.exp(min(z, 700.0)))

    # --- what happens ---------------------------------------------------------------------

    def commit_crime(self, offender: Offender, node: int, cameras: np.ndarray,
                     camera_risk: float, police_present: bool) -> Crime:
        crime = Crime(self, offender, node, cameras, camera_risk, police_present)
        self.crimes.append(crime)
        self.near_repeats.record(node, self.time)
        self.recorder.crime(crime)
        if self._feeds_hotspots(crime):
            self._reported.append((self.time, node))
            self._reported_counts[node] += 1.0
        if crime.reported:
            delay = crime.report_delay() + self.config.police.dispatch_delay_min
            self.schedule_event(crime.call, after=delay)
        else:
            crime.settle(False)
        return crime

    def _feeds_hotspots(self, crime: Crime) -> bool:
        """Whether a crime is among the incidents hot-spot patrol reads."""
        source = self.config.police.hotspot_source
        if source == "reported":
            return crime.victim_reported
        if source == "discovered":
            return crime.discovered
        return crime.recorded

    def arrest(self, crime: Crime, mode: ArrestMode) -> None:
        crime.arrested = True
        crime.arrest_mode = mode
        crime.arrest_time_min = self.time
        self.arrests += 1
        self.recorder.arrest(crime)
        crime.offender.jail()

    def refresh_hotspots(self) -> None:
        """Hot-spot patrol goes where recorded crime was highest lately."""
        window, counts = self._reported, self._reported_counts
        while window and self.time - window[0][0] > HOTSPOT_WINDOW_MIN:
            counts[window.popleft()[1]] -= 1.0
        if not window:
            return
        hotspots = self._top_places(counts + 1e-3 * self.city.attractiveness)
        if self.hotspot_pool.same_places(hotspots):
            return
        self.hotspot_pool = PatrolPool(self.city.router, hotspots)
        if self.config.police.patrol == "hotspot":
            self.replan_patrols()

    # --- changes during a run -------------------------------------------------------------

    def install_cameras(self) -> None:
        self.accounts.accrue()
        self.cameras.install()

    def settings_changed(self, keys: set[str]) -> None:
        """Tell the parts that act on changed settings (called by the timeline)."""
        if "police.units" in keys:
            self.set_police_units(self.config.police.units)
        if keys & PATROL_KEYS:
            self.replan_patrols()
        if "cameras.repair" in keys and self.config.cameras.repair:
            self.cameras.resume_repairs()

    def replan_patrols(self) -> None:
        """Units on patrol plan afresh after the stop they are heading for or at."""
        for unit in self.units:
            unit.replan()

    def set_police_units(self, n: int) -> None:
        """Add units (they start patrolling) or stand down the newest ones."""
        while len(self.units) < n:
            unit = self._new_unit()
            self.units.append(unit)
            unit.patrol()
        while len(self.units) > n:
            unit = self.units.pop()
            self.leaving.append(unit)  # keeps a busy unit alive until it clears its call
            unit.stand_down()

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
