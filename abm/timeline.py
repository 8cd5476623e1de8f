"""Time-varying inputs: dated changes of settings, news reports and the background trend.

A scenario is more than one set of numbers: cameras go live on a date, a repair contract lapses,
staff move from patrol to the control room, the press reports that half the cameras are broken,
crime drifts with the economy. Each dated change is an event that rewrites the model's live
settings and tells the parts that cache them, or tells offenders the news.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from abm.config import Change
from abm.units import MINUTES_PER_DAY, MINUTES_PER_YEAR

if TYPE_CHECKING:
    from abm.model import SafeCityModel


class ScheduledChange:
    """One dated change, kept alive by the timeline until it fires."""

    def __init__(self, model: SafeCityModel, change: Change) -> None:
        self.model = model
        self.change = change

    def apply(self) -> None:
        model, change = self.model, self.change
        if change.set:
            model.accounts.accrue()
            model.config.assign(change.set)
            model.settings_changed(set(change.set))
        if change.news is not None:
            model.beliefs.hear_news(change.news.cameras_broken_share, change.news.reach)


class Timeline:
    """Schedules a scenario's dated changes and advances the background trend daily."""

    def __init__(self, model: SafeCityModel) -> None:
        self.model = model
        self.changes = [ScheduledChange(model, c)
                        for c in sorted(model.config.timeline, key=lambda c: c.day)]
        for scheduled in self.changes:
            model.schedule_event(scheduled.apply, at=scheduled.change.day * MINUTES_PER_DAY)
        self._last = 0.0

    def advance_trend(self) -> None:
        """Compound the exogenous trend in offending up to now."""
        now = self.model.time
        rate = self.model.config.offenders.trend_per_year
        self.model.targets.trend *= (1.0 + rate) ** ((now - self._last) / MINUTES_PER_YEAR)
        self._last = now
