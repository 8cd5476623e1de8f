"""Calls for service: the queue, where the free units are, and sending the nearest of them by
street distance.

Response time = reporting delay + call handling + waiting for a free unit + travel time.
Live detections by camera operators jump the queue (they are in progress).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from abm.crimes import Crime
    from abm.model import SafeCityModel
    from abm.police import PoliceUnit

# Search radii for the nearest free unit, in metres, widened in turn to the whole city while no
# free unit is that close. Bounded searches keep dispatch cheap on large cities; a call at a
# place with a cached tree needs none.
SEARCH_RADII_M = (1500.0, 5000.0, np.inf)


class Dispatcher:
    """Holds waiting calls and assigns units to them."""

    def __init__(self, model: SafeCityModel) -> None:
        self.model = model
        self.queue: deque[Crime] = deque()
        self.units: list[PoliceUnit] = []
        self.busy = 0
        self._busy_minutes = 0.0
        self._last_change = 0.0

    def receive(self, call: Crime) -> None:
        """A call reaches dispatch after call handling; send a unit or queue it."""
        if not self._send(call):
            if call.detected_live:
                self.queue.appendleft(call)
            else:
                self.queue.append(call)

    def unit_done(self) -> None:
        """A unit that was on a call is no longer busy."""
        self._set_busy(-1)

    def unit_free(self, unit: PoliceUnit) -> None:
        """A unit clears a scene: it takes the oldest waiting call or goes back on patrol."""
        self.unit_done()
        while self.queue:
            call = self.queue.popleft()
            if self._assign(unit, call):
                return
        unit.patrol()

    def _send(self, call: Crime) -> bool:
        free = Whereabouts([u for u in self.units if u.free], self.model.time)
        if not free.units:
            return False
        router, node = self.model.city.router, call.node
        found = None
        tree = router.cached_tree(node)
        if tree is not None:
            # The nearest of all is the one the first radius holding it finds, by the same
            # route unless the route has a tie another search could break another way.
            found = self._nearest(free, node, tree)
            if found is None:
                return False
            if router.tied(found[1], tree[0]):
                found = None
        if found is None:
            for radius in SEARCH_RADII_M:
                found = self._nearest(free, node, router.toward(node, radius), radius)
                if found is not None:
                    break
            else:
                return False
        unit, path, along = found
        self._set_busy(+1)
        unit.respond(call, path, along)
        return True

    def _nearest(self, free: Whereabouts, node: int, tree: tuple[np.ndarray, np.ndarray],
                 limit_m: float = np.inf):
        """The free unit nearest to a place by street distance now, within a limit (the first
        in order among equals), with its route there; None if none is within the limit.
        ``tree`` is toward the place, searched up to the limit or further.

        The same choice as looking up where every unit is, but a unit still on its way is
        looked up only if its leg could bring it as near as the best found so far (nearest
        legs first, so the best tightens early).
        """
        dist = tree[0]
        units, stopped, places, driving = free.units, free.stopped, free.places, free.driving
        best = (np.inf, -1, -1)  # (distance, index, place)
        if stopped:
            d = dist[places]
            k = int(np.argmin(d))  # the first among equals: the lowest index
            best = (d.item(k), stopped[k], places[k])
        if driving:
            bounds = free.bounds(node, dist, limit_m)
            for k in np.argsort(bounds, kind="stable").tolist():
                # Street distances obey the triangle inequality up to rounding: keep a margin.
                # A unit no nearer than the limit cannot be within it.
                if bounds[k] > best[0] + 1e-6 * (1.0 + best[0]) or bounds[k] >= limit_m:
                    break
                i = driving[k]
                place = units[i].position(free.now)
                best = min(best, (dist.item(place), i, place))
        if best[0] == np.inf:
            return None
        path, along = self.model.city.router.walk(best[2], node, tree)
        return units[best[1]], path, along

    def _assign(self, unit: PoliceUnit, call: Crime) -> bool:
        try:
            path, along = self.model.city.router.route(unit.position(self.model.time), call.node)
        except ValueError:  # unreachable on a directed network
            return False
        self._set_busy(+1)
        unit.respond(call, path, along)
        return True

    def _set_busy(self, delta: int) -> None:
        now = self.model.time
        self._busy_minutes += self.busy * (now - self._last_change)
        self._last_change = now
        self.busy += delta

    def busy_minutes(self) -> float:
        """Unit-minutes spent on calls so far."""
        self._set_busy(0)
        return self._busy_minutes


class Whereabouts:
    """Where units are at one moment, for dispatch: which are stopped (at a patrol stop or a
    scene) and where, and which are driving, with bounds on their distance to any place.

    Looked up all at once from the units' rows in ``Presence``: the same as each unit's
    ``stopped_at`` and ``leg``. Every free unit is on a tour (it plans one whenever it is free).

    Bounds: by now a unit has driven about a = (now - departure) x speed of its shortest
    route of length L from u to v: it is at most a from u and at most L - a + (one street)
    from v. By the triangle inequality it is no nearer than d(u) - a, and on two-way streets
    no nearer than d(v) - (L - a + one street); where no street is shorter than the straight
    line, the same holds for straight-line distances.
    """

    def __init__(self, units: list[PoliceUnit], now: float) -> None:
        self.units, self.now = units, now
        n = len(units)
        if n == 0:
            self.stopped, self.places, self.driving = [], [], []
            return
        model = units[0].model
        rows = np.fromiter((u.row for u in units), np.intp, n)
        stopped, end, start, depart, metres = model.presence.legs(rows, now)
        self.stopped = np.flatnonzero(stopped).tolist()
        self.places = end[stopped].tolist()
        driving = ~stopped
        self.driving = np.flatnonzero(driving).tolist()
        m = len(self.driving)
        speed = np.fromiter((units[i].speed for i in self.driving), float, m)
        done = (now - depart[driving]) * speed
        left = metres[driving] - done
        left += model.city.longest_street_m
        # Both ends of the legs (starts, then ends) and at most how far each unit is from
        # them, so each bound below is worked out for both ends at once.
        self.ends = np.concatenate([start[driving], end[driving]])
        self.gone = np.concatenate([done, left])
        self.start, self.end, self.done = self.ends[:m], self.ends[m:], self.gone[:m]
        self.ends_xy = model.city.xy[self.ends]
        self.city = model.city

    def bounds(self, place: int, dist: np.ndarray, limit_m: float = np.inf) -> np.ndarray:
        """At least how far each driving unit is from ``place`` now, by ``dist`` (street
        metres toward it from every node; inf beyond a search limit)."""
        city = self.city
        bound = np.minimum(dist[self.ends], limit_m) - self.gone
        if not city.router.two_way:
            bound[len(self.start):] = -np.inf  # no bound by street from the end
        if city.streets_not_shorter:
            bound = np.maximum(bound, np.hypot(*(self.ends_xy - city.xy[place]).T) - self.gone)
        return np.maximum(bound[:len(self.start)], bound[len(self.start):])
