"""The camera system's rules: which feeds operators see, and what failures take away."""

import pytest

from abm.cameras import Camera, Fault, detection_accuracy
from abm.config import Config
from abm.model import SafeCityModel
from abm.simulate import simulate
from tests.conftest import small

WORKING = ["cameras.mtbf_days=36500", "cameras.group_mtbf_days=36500"]


def live_model(*overrides: str) -> SafeCityModel:
    model = SafeCityModel(small(*WORKING, "cameras.count=20", "cameras.operators=1",
                                "cameras.feeds_per_operator=4", *overrides))
    model.run_for(1.0)
    return model


@pytest.mark.parametrize(("shown", "half_down"), [("installed", 4 / 20), ("working", 4 / 10)])
def test_a_dead_feed_keeps_its_turn_on_screen_unless_the_room_drops_it(shown, half_down):
    model = live_model(f"cameras.feeds_on_screens={shown}")
    cams = model.cameras
    assert cams.watch_probability() == pytest.approx(4 / 20)
    for camera in cams.cameras[:10]:
        cams.set_fault(camera, Fault.HARDWARE)
    assert cams.watch_probability() == pytest.approx(half_down)


def test_no_feed_on_screen_before_go_live_or_when_every_camera_is_dead():
    model = SafeCityModel(small("cameras.install_day=5"))
    assert model.cameras.watch_probability() == 0.0
    model.run_days(6)
    cams = model.cameras
    for camera in cams.cameras:
        cams.set_fault(camera, Fault.HARDWARE)
    assert cams.watch_probability() == 0.0


def test_failures_cost_live_detections_when_tours_keep_dead_feeds():
    """Most cameras down: with tours over every installed camera, operators see far fewer
    crimes as they happen than a room that only shows working feeds (monitors binding)."""
    common = ["run.days=120", "offenders.count=200", "cameras.count=40", "cameras.operators=1",
              "cameras.feeds_per_operator=4", "cameras.mtbf_days=5", "cameras.mttr_days=20",
              "cameras.group_mtbf_days=36500"]
    live = {shown: int(simulate(small(*common, f"cameras.feeds_on_screens={shown}"))
                       .crimes["detected_live"].sum())
            for shown in ("installed", "working")}
    assert live["working"] > 1.5 * live["installed"] > 0, live


def test_operator_accuracy_follows_home_office_test():
    assert detection_accuracy(1) == pytest.approx(0.85)
    assert detection_accuracy(4) == pytest.approx(0.74)
    assert detection_accuracy(9) == pytest.approx(0.53)
    assert detection_accuracy(16) == pytest.approx(0.53)


def test_a_timeline_starts_and_stops_blocked_views_on_live_cameras(monkeypatch):
    blocked = []
    block_view = Camera.block_view

    def counted(camera):
        blocked.append(camera.model.time / 1440.0)
        block_view(camera)

    monkeypatch.setattr(Camera, "block_view", counted)
    config = small(*WORKING, "run.days=40", "cameras.install_day=1",
                   "cameras.obstruction_mttr_days=1")
    data = config.model_dump(mode="json")
    data["timeline"] = [{"day": 10, "set": {"cameras.obstruction_mtbf_days": 3}},
                        {"day": 25, "set": {"cameras.obstruction_mtbf_days": None}}]
    SafeCityModel(Config.model_validate(data)).run_days(40)
    assert blocked and min(blocked) >= 10  # none before they start
    assert max(blocked) < 25  # and none once they stop
    assert len(blocked) > 5
