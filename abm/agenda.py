"""The agents' agenda: a cheap timetable for offenders' and police units' own events.

Offenders' trips and units' patrol tours and scenes are nine in ten of a run's events (about a
million in a city-scale year). Each Mesa event costs an ``Event`` object, a weak reference to its
callback and heap comparisons made in Python; here an entry is a three-item list compared in
C. The agenda runs inside Mesa's event loop: one Mesa event (its alarm) stands at the time of
its earliest entry, and when it goes off it runs, in time order, every entry due before
Mesa's next event and not after the end of the current ``run_until``/``run_for``. So Mesa's
events and the agenda's run in one time order, and ``model.time`` is each entry's time while
it runs. The model's occasional events (calls, footage, cameras failing, bookkeeping) stay
on Mesa's event list.

Where an entry and a Mesa event fall on exactly the same minute, the Mesa event runs first.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import contextmanager
from heapq import heappop, heappush
from typing import TYPE_CHECKING

from abm.mesa_adapter import pending_events

if TYPE_CHECKING:
    import mesa


class Agenda:
    """Entries ``[time, order, callback]`` in a heap; ``order`` breaks ties first-come."""

    def __init__(self, model: mesa.Model) -> None:
        self.model = model
        self.horizon = -math.inf  # the end of the run under way (see ``until``)
        self._heap: list[list] = []
        self._order = 0  # entries made so far: ties run first-come
        self._alarm = None
        self._alarm_at = math.inf
        self._running = False

    def __len__(self) -> int:
        return sum(1 for entry in self._heap if entry[2] is not None)

    def at(self, time: float, callback: Callable[[], object]) -> list:
        """Call ``callback()`` at a time (minutes); returns the entry, to cancel it."""
        if time < self.model.time:
            raise ValueError(f"cannot schedule at {time}, before now ({self.model.time})")
        entry = [time, self._order, callback]
        self._order += 1
        heappush(self._heap, entry)
        if time < self._alarm_at and not self._running:
            self._arm(time)
        return entry

    def after(self, delay: float, callback: Callable[[], object]) -> list:
        return self.at(self.model.time + delay, callback)

    @contextmanager
    def until(self, end_time: float):
        """While Mesa runs the model up to ``end_time``: entries up to then may run at once.
        Without it (Mesa's ``step``) each alarm runs only what is due at its own minute."""
        self.horizon = end_time
        try:
            yield
        finally:
            self.horizon = -math.inf

    def next_due(self) -> float:
        """When the next entry or Mesa event is due (inf if none), for a callback that handles
        at once what falls before it."""
        heap = self._heap
        while heap and heap[0][2] is None:
            heappop(heap)
        due = heap[0][0] if heap else math.inf
        mesa_events = pending_events(self.model)
        return min(due, mesa_events[0].time) if mesa_events else due

    @property
    def end(self) -> float:
        """The latest time an entry may run in the run under way."""
        return max(self.horizon, self.model.time)

    @staticmethod
    def cancel(entry: list) -> None:
        entry[2] = None

    def _arm(self, time: float) -> None:
        if self._alarm is not None:
            self._alarm.cancel()
        self._alarm = self.model.schedule_event(self._run, at=time)
        self._alarm_at = time

    def _run(self) -> None:
        """The alarm: run what is due before Mesa's next event and the run's end."""
        self._alarm, self._alarm_at = None, math.inf
        model, heap = self.model, self._heap
        # Mesa's heap of events; its head (perhaps a cancelled event) is no later than Mesa's
        # next event. Callbacks may schedule Mesa events, so it is read before each entry.
        mesa_events = pending_events(model)
        last = self.end
        self._running = True
        try:
            while heap:
                time = heap[0][0]
                if time > last or (mesa_events and mesa_events[0].time <= time):
                    break
                callback = heappop(heap)[2]
                if callback is not None:
                    model.time = time
                    callback()
        finally:
            self._running = False
        while heap and heap[0][2] is None:
            heappop(heap)
        if heap:
            self._arm(heap[0][0])
