"""Time-varying inputs: dated changes of settings, news reports and the background trend.

A scenario is more than one set of numbers: cameras go live on a date, a repair contract lapses,
staff move from patrol to the control room, the press reports that half the cameras are broken,
crime drifts with the economy. Each dated change is an event that rewrites the model's live
settings and tells the parts that cache them, or tells offenders the news.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from abm.config import Change, ConfigError
from abm.units import MINUTES_PER_DAY, MINUTES_PER_YEAR

if TYPE_CHECKING:
    from abm.model import SafeCityModel


class ScheduledChange:
    """One dated change, kept alive by the timeline until it fires."""

    def __init__(self, model: SafeCityModel, change: Change) -> None:
        self.model = model
        self.change = change
        self.fired = False
        self.event = model.schedule_event(self.apply, at=change.day * MINUTES_PER_DAY)

    def apply(self) -> None:
        self.fired = True
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
        self._last = 0.0

    def follow(self, timeline: list[Change]) -> None:
        """A forked run goes on under another timeline: its changes still to come that the
        new one lacks are cancelled, and the new one's changes not yet scheduled are (a
        change dated before now that never happened cannot be made up)."""
        now = self.model.time
        wanted = list(timeline)
        kept = []
        for scheduled in self.changes:
            if scheduled.change in wanted:
                wanted.remove(scheduled.change)
                kept.append(scheduled)
            elif scheduled.fired:
                raise ConfigError(f"timeline day {scheduled.change.day:g}: the run to fork "
                                  "made this change already")
            else:
                scheduled.event.cancel()
        for change in sorted(wanted, key=lambda c: c.day):
            if change.day * MINUTES_PER_DAY < now:
                raise ConfigError(f"timeline day {change.day:g}: before the moment of the fork")
            kept.append(ScheduledChange(self.model, change))
        self.changes = kept

    def advance_trend(self) -> None:
        """Compound the exogenous trend in offending up to now."""
        now = self.model.time
        rate = self.model.config.offenders.trend_per_year
        self.model.targets.trend *= (1.0 + rate) ** ((now - self._last) / MINUTES_PER_YEAR)
        self._last = now
