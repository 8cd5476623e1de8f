"""Per-camera records: time up and crimes seen agree with what the model recorded as it ran."""

import bisect

import numpy as np
import pytest

from abm.camera_records import COLUMNS, camera_frame
from abm.metrics import crime_frame
from abm.model import SafeCityModel
from abm.simulate import run_to_end
from tests.conftest import small

# Cameras that fail often, on cable segments, with slow repair: many ups and downs in 30 days.
FLAKY = ["run.days=30", "cameras.install_day=5", "cameras.mtbf_days=12", "cameras.mttr_days=4",
         "cameras.groups=4", "cameras.group_mtbf_days=20", "cameras.group_mttr_days=3",
         "cameras.count=40", "offenders.count=200"]


@pytest.fixture(scope="module")
def flaky():
    model = SafeCityModel(small(*FLAKY))
    run_to_end(model)
    crimes = crime_frame(model.crimes)
    return model, crimes, camera_frame(model, crimes)


def test_columns_and_one_row_per_camera(flaky):
    model, _, table = flaky
    assert list(table.columns) == list(COLUMNS)
    assert len(table) == len(model.cameras.cameras) == 40
    assert table["node"].tolist() == [c.node for c in model.cameras.cameras]
    assert set(table["segment"]) == set(range(4))
    assert set(table["state_at_end"]) <= {"up", "down"}
    assert (table["state_at_end"] == "up").sum() == model.cameras.up_count


def test_time_up_adds_up_to_the_systems_uptime(flaky):
    model, _, table = flaky
    assert 0.2 < model.cameras.uptime() < 0.95  # failures and repairs both happened
    assert np.isclose(table["up_days"].sum() * 1440.0, model.cameras.up_minutes(), rtol=1e-12)
    assert np.isclose(table["up_days"].sum() / table["installed_days"].sum(),
                      model.cameras.uptime(), rtol=1e-12)
    assert (table["installed_days"] == 25.0).all()
    assert table["uptime"].between(0, 1).all() and table["uptime"].nunique() > 5


def test_crimes_seen_match_the_crime_log(flaky):
    """A crime was under a working camera exactly when some camera watching its place was up
    then (by the change log); crimes_seen counts those per camera."""
    model, crimes, table = flaky
    changes: dict[int, list[tuple[float, bool]]] = {}
    for t, i, up in model.cameras.changes().tolist():
        changes.setdefault(int(i), []).append((t, up == 1.0))
    expected_seen = np.zeros(len(table), dtype=int)
    expected_view = np.zeros(len(table), dtype=int)
    any_up = []
    for t, node in zip(crimes["time_min"], crimes["node"], strict=True):
        up_here = False
        for camera in model.cameras.cameras:
            if node not in camera.watched or t < 5 * 1440.0:
                continue
            expected_view[camera.index] += 1
            log = changes.get(camera.index, [])
            k = bisect.bisect_right([m for m, _ in log], t) - 1
            if k >= 0 and log[k][1]:
                expected_seen[camera.index] += 1
                up_here = True
        any_up.append(up_here)
    assert any_up == crimes["under_working_camera"].tolist()
    assert table["crimes_seen"].tolist() == expected_seen.tolist()
    assert table["crimes_in_view"].tolist() == expected_view.tolist()
    assert 0 < table["crimes_seen"].sum() < table["crimes_in_view"].sum()


def test_before_go_live_nothing_is_installed_or_seen():
    model = SafeCityModel(small("run.days=3", "cameras.install_day=5"))
    run_to_end(model)
    table = camera_frame(model, crime_frame(model.crimes))
    assert (table["installed_days"] == 0).all() and table["uptime"].isna().all()
    assert (table["crimes_in_view"] == 0).all() and (table["state_at_end"] == "not installed").all()


def test_no_cameras_gives_an_empty_table():
    model = SafeCityModel(small("run.days=2", "cameras.count=0"))
    run_to_end(model)
    table = camera_frame(model, crime_frame(model.crimes))
    assert len(table) == 0 and list(table.columns) == list(COLUMNS)
