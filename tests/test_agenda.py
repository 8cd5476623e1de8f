"""The agenda runs its entries and Mesa's events in one time order, never past a run's end."""

import mesa
import pytest

from abm.agenda import Agenda


class Clock(mesa.Model):
    """A bare model with an agenda, run the way SafeCityModel runs."""

    def __init__(self) -> None:
        super().__init__(rng=1)
        self.agenda = Agenda(self)
        self.log: list[tuple[float, str]] = []

    def run_until(self, end_time: float) -> None:
        with self.agenda.until(end_time):
            super().run_until(end_time)

    def note(self, label: str):
        return Note(self, label)


class Note:
    """A callback that writes when it ran; may schedule more when it runs."""

    def __init__(self, model: Clock, label: str, then=None) -> None:
        self.model, self.label, self.then = model, label, then

    def __call__(self) -> None:
        self.model.log.append((self.model.time, self.label))
        if self.then:
            self.then()


def test_entries_and_mesa_events_run_in_one_time_order():
    model = Clock()
    keep = []  # Mesa holds callbacks weakly
    for t in [5.0, 1.0, 9.0, 3.0]:
        model.agenda.at(t, model.note(f"entry {t}"))
    for t in [2.0, 4.0, 8.5]:
        keep.append(model.note(f"mesa {t}"))
        model.schedule_event(keep[-1], at=t)
    model.run_until(20.0)
    assert model.log == sorted(model.log)
    assert [label for _, label in model.log] == [
        "entry 1.0", "mesa 2.0", "entry 3.0", "mesa 4.0", "entry 5.0", "mesa 8.5", "entry 9.0"]
    assert model.time == 20.0


def test_nothing_runs_past_the_end_of_a_run_and_the_rest_runs_later():
    model = Clock()
    for t in [1.0, 6.0, 10.0, 10.5]:
        model.agenda.at(t, model.note(str(t)))
    model.run_until(10.0)
    assert [t for t, _ in model.log] == [1.0, 6.0, 10.0] and model.time == 10.0
    model.run_until(11.0)
    assert [t for t, _ in model.log] == [1.0, 6.0, 10.0, 10.5]


def test_what_an_entry_schedules_sooner_runs_in_its_place():
    model = Clock()
    keep = []

    def soon_mesa():
        keep.append(model.note("mesa soon"))
        model.schedule_event(keep[-1], after=0.5)

    def sooner_entry():
        model.agenda.after(0.25, model.note("entry sooner"))

    model.agenda.at(1.0, Note(model, "first", then=soon_mesa))
    model.agenda.at(1.2, Note(model, "second", then=sooner_entry))
    model.agenda.at(3.0, model.note("last"))
    model.run_until(5.0)
    assert [(t, label) for t, label in model.log] == [
        (1.0, "first"), (1.2, "second"), (1.45, "entry sooner"), (1.5, "mesa soon"), (3.0, "last")]


def test_a_mesa_event_may_add_an_entry_before_the_alarm():
    model = Clock()
    model.agenda.at(8.0, model.note("late"))

    def add_early():
        model.agenda.at(3.0, model.note("early"))

    model.schedule_event(add_early, at=2.0)
    model.run_until(10.0)
    assert model.log == [(3.0, "early"), (8.0, "late")]


def test_cancelled_entries_do_not_run_and_are_not_counted():
    model = Clock()
    gone = model.agenda.at(2.0, model.note("gone"))
    model.agenda.at(4.0, model.note("kept"))
    model.agenda.cancel(gone)
    assert len(model.agenda) == 1
    model.run_until(5.0)
    assert model.log == [(4.0, "kept")]


def test_mesa_step_without_a_run_end_still_runs_everything_in_order():
    model = Clock()
    for t in [0.5, 0.7, 2.5]:
        model.agenda.at(t, model.note(str(t)))
    for _ in range(3):
        model.step()  # Mesa's step advances one time unit, with no run end announced
    assert [t for t, _ in model.log] == [0.5, 0.7, 2.5]


def test_an_entry_cannot_be_put_in_the_past():
    model = Clock()
    model.run_until(5.0)
    with pytest.raises(ValueError, match="before now"):
        model.agenda.at(4.0, model.note("x"))
