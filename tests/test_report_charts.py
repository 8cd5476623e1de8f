"""The report's PNG charts read honestly: counts from zero with whole-number ticks, the
scenario in the title, a unit on every axis."""

import pytest

from abm.config import load
from abm.experiment import report as rep
from abm.outputs import write_run
from abm.simulate import simulate
from tests.conftest import ROOT, smoke_sweep


@pytest.fixture
def figures(monkeypatch):
    """The figures the report saves, by file name, instead of their files."""
    saved = {}

    def keep(fig, path):
        saved[path.name] = fig
        return path

    monkeypatch.setattr(rep, "save_figure", keep)
    return saved


def whole_ticks(axis) -> bool:
    return all(float(t).is_integer() for t in axis.get_majorticklocs())


def test_run_report_counts_start_at_zero_with_whole_ticks(tmp_path, figures):
    config = load(ROOT / "abm/configs/default.yaml", ["run.days=4", "city.nodes=150",
                                                   "offenders.count=60", "police.units=2",
                                                   "cameras.count=30"])
    folder = write_run(simulate(config), tmp_path / "run")
    rep.run_report(folder, tmp_path / "report", lambda *_: None)
    fig = figures["daily.png"]
    assert fig.get_suptitle().startswith("Scenario default")
    crimes, arrests, cameras, risk = fig.axes
    for ax in (crimes, arrests, cameras):
        assert ax.get_ylim()[0] == 0, ax.get_ylabel()
        assert whole_ticks(ax.yaxis), ax.get_ylabel()
        assert "(count)" in ax.get_ylabel()
    assert cameras.get_ylim()[1] >= 30  # a dip of one camera is not drawn as a collapse
    assert risk.get_ylim() == (0, 1) and "0 to 1" in risk.get_ylabel()
    assert risk.get_xlabel() == "day of the run"


def test_sweep_charts_name_the_scenario_and_label_every_axis(tmp_path, figures):
    out = tmp_path / "sweep"
    smoke_sweep(out)
    rep.SweepReport(out, out / "report", None, lambda *_: None).write()
    assert {"crime_by_coverage.png", "response_vs_clearance.png", "effects.png"} <= set(figures)
    for name, fig in figures.items():
        titles = [fig.get_suptitle()] + [ax.get_title() for ax in fig.axes]
        assert any("sweep smoke on scenario default" in t for t in titles), name
        for ax in fig.axes:
            if not ax.get_visible() or ax.get_label() == "<colorbar>":
                continue
            assert ax.get_xlabel() and ax.get_ylabel(), (name, ax.get_title())
    for ax in figures["crime_by_coverage.png"].axes:
        if ax.get_label() != "<colorbar>":
            assert ax.get_ylim()[0] == 0 and whole_ticks(ax.yaxis)
