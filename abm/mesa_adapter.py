"""Every use of Mesa's internals, in one place.

The model is a pure discrete-event simulation on Mesa's event list. Two things it needs are not
in Mesa's public API: switching off the default per-step schedule (as Mesa's own event simulator
does), and the heap of Mesa's pending events, whose head tells the agenda when Mesa's next event
is due so that both run in one time order. When Mesa changes, this module changes, and nothing
else reaches into Mesa.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import mesa


def stop_stepping(model: mesa.Model) -> None:
    """Drop Mesa's per-step event: ``model.step()`` still advances one time unit, running what
    is due, but nothing is scheduled every step."""
    schedule = getattr(model, "_default_schedule", None)
    if schedule is not None:
        schedule.stop()


def pending_events(model: mesa.Model) -> list:
    """Mesa's heap of pending events (the live list: read its head, never change it). The head,
    perhaps a cancelled event, is no later than Mesa's next event; ``event.time`` is when."""
    return model._event_list._events
