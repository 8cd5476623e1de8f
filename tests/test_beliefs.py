"""What offenders believe: each test can fail if a learning channel breaks or misattributes."""

import numpy as np
import pytest

from abm.beliefs import Beliefs, clipped_mean, clipped_mean_scratch, row_means
from abm.cameras import Fault
from abm.config import Config
from abm.crimes import Crime
from abm.model import SafeCityModel
from abm.simulate import simulate
from tests.conftest import small

WORKING = ["cameras.mtbf_days=36500", "cameras.group_mtbf_days=36500"]


def live_model(*overrides: str) -> SafeCityModel:
    """A model whose cameras are live (installed on day 0, run for a moment)."""
    model = SafeCityModel(small(*WORKING, *overrides))
    model.run_for(1.0)
    return model


def test_an_outcome_moves_the_camera_most_and_cameras_in_general_by_a_share():
    model = live_model("offenders.peer_observation_prob=0")
    beliefs, s = model.beliefs, model.config.offenders
    before = beliefs.of(0, 3)
    other = beliefs.of(0, 4)
    beliefs.learn_camera(0, np.array([3]), caught=True)
    error = 1.0 - before
    assert beliefs.of(0, 3) == pytest.approx(before + s.learning_rate * error, rel=1e-5)
    assert beliefs.of(0, 4) == pytest.approx(other + s.learning_rate * s.generalisation * error,
                                             rel=1e-5)
    assert beliefs.of(1, 3) == pytest.approx(before)  # nobody else heard


def test_word_of_mouth_reaches_about_the_share_who_hear_and_never_the_source():
    model = live_model("offenders.count=2000", "offenders.peer_observation_prob=0.25")
    beliefs = model.beliefs
    start = beliefs.general.copy()
    beliefs.spread(7, np.array([2]), caught=False)
    moved = np.flatnonzero(beliefs.general != start)
    assert 7 not in moved
    assert 0.2 * 1999 < len(moved) < 0.3 * 1999
    assert (beliefs.general[moved] < start[moved]).all()  # they heard someone got away


def test_a_police_arrest_on_the_scene_teaches_police_risk_not_camera_risk():
    model = live_model("offenders.peer_observation_prob=0")
    beliefs, cams = model.beliefs, model.cameras
    node = cams.cameras[0].node
    in_view = cams.in_view(node)
    assert len(in_view)
    offender = model.offenders[0]

    def crime(live: bool) -> Crime:
        c = Crime(model, offender, node, in_view, beliefs.camera_risk(0, in_view), False)
        c.detected_live = live
        return c

    camera, police = beliefs.camera_risk(0, in_view), beliefs.police[0]
    crime(live=False).settle(True)  # police alone: no camera involved
    assert beliefs.camera_risk(0, in_view) == pytest.approx(camera)
    assert beliefs.police[0] > police
    police = beliefs.police[0]
    crime(live=True).settle(True)  # an operator's alert brought the unit
    assert beliefs.camera_risk(0, in_view) > camera
    assert beliefs.police[0] < police  # police alone did not catch them
    camera = beliefs.camera_risk(0, in_view)
    crime(live=False).settle(False)  # got away under the cameras
    assert beliefs.camera_risk(0, in_view) < camera


def test_a_camera_that_looks_broken_stops_deterring_where_it_is_seen():
    model = live_model("cameras.count=1", "cameras.hardware_visible_share=1")
    camera = model.cameras.cameras[0]
    assert camera.index in model.cameras.in_view(camera.node)
    assert model.beliefs.camera_risk(0, model.cameras.in_view(camera.node)) > 0
    camera.fail()  # visibly: dismantled
    assert camera.looks_down and model.cameras.in_view(camera.node).size == 0
    assert model.beliefs.camera_risk(0, model.cameras.in_view(camera.node)) == 0
    camera.repair()
    assert camera.index in model.cameras.in_view(camera.node)


def test_a_camera_broken_out_of_sight_still_deters_by_belief():
    model = live_model("cameras.count=1", "cameras.hardware_visible_share=0")
    camera = model.cameras.cameras[0]
    camera.fail()
    assert not camera.up and not camera.looks_down
    assert model.beliefs.camera_risk(0, model.cameras.in_view(camera.node)) > 0


def test_beliefs_follow_which_cameras_are_dark():
    """Half the cameras die unseen at go-live, the rest work and are watched: offenders come
    to fear the working ones more than the dark ones."""
    cfg = small("run.days=150", "offenders.count=300", "cameras.count=60", "cameras.operators=30",
                "cameras.hardware_visible_share=0", "cameras.footage_id_prob=0.6", *WORKING)
    model = SafeCityModel(cfg)
    model.run_for(1.0)
    dark = [c for c in model.cameras.cameras if c.index % 2 == 0]
    for camera in dark:  # down for good: no repair is booked for a fault set this way
        model.cameras.set_fault(camera, Fault.HARDWARE)
    model.run_days(150)
    beliefs = np.clip(model.beliefs.general[:, None] + model.beliefs.offset, 0, 1)
    dark_mean = beliefs[:, [c.index for c in dark]].mean()
    lit_mean = beliefs[:, [c.index for c in model.cameras.cameras if c.index % 2]].mean()
    assert dark_mean < lit_mean - 0.01, (dark_mean, lit_mean)


def test_a_news_report_shifts_beliefs_city_wide_and_reports_do_not_compound():
    cfg = small("run.days=40", *WORKING, "offenders.peer_observation_prob=0",
                "offenders.learning_rate=0", "offenders.police_learning_rate=0").model_dump()
    cfg["timeline"] = [{"day": 10, "news": {"cameras_broken_share": 0.5, "reach": 1.0}},
                       {"day": 20, "news": {"cameras_broken_share": 0.5, "reach": 1.0}},
                       {"day": 30, "news": {"cameras_broken_share": 0.25, "reach": 1.0}}]
    model = SafeCityModel(Config.model_validate(cfg))
    model.run_days(9.9)
    before = model.beliefs.mean_camera_risk()
    model.run_days(0.2)
    assert model.beliefs.mean_camera_risk() == pytest.approx(before / 2, rel=1e-6)
    model.run_days(10)  # the same news again: nothing new
    assert model.beliefs.mean_camera_risk() == pytest.approx(before / 2, rel=1e-6)
    model.run_days(10)  # fewer broken than last heard: back up to three quarters
    assert model.beliefs.mean_camera_risk() == pytest.approx(before * 0.75, rel=1e-6)


def test_news_reaches_about_its_share_of_offenders():
    model = live_model("offenders.count=4000")
    heard = model.beliefs.hear_news(0.5, 0.3)
    assert 0.27 * 4000 < heard < 0.33 * 4000


def test_no_cameras_no_camera_beliefs_in_the_record():
    result = simulate(small("cameras.install_day=3650"))
    assert result.metrics["perceived_camera_risk_mean"].isna().all()
    assert result.summary["perceived_camera_risk_final"] is None
    assert not result.crimes["perceived_camera"].any()


def move_by_rows_and_columns(beliefs, who, cameras, outcome, rate):
    """The reference: how beliefs moved before they were read and written by flat indices."""
    share = beliefs.settings.generalisation
    rows = np.ix_(who, cameras)
    belief = np.clip(beliefs.general[who, None] + beliefs.offset[rows], 0.0, 1.0)
    error = outcome - belief
    beliefs.offset[rows] += (rate * (1.0 - share) * error).astype(np.float32)
    beliefs.general[who] += rate * share * error.mean(axis=1)


@pytest.mark.parametrize("cameras", [1, 2, 3, 7, 8, 9, 20])
def test_beliefs_move_bit_for_bit_as_by_rows_and_columns(cameras):
    model = live_model("offenders.count=300", "cameras.count=40")
    beliefs = model.beliefs
    rng = np.random.default_rng(cameras)
    # Beliefs spread over and beyond [0, 1], some exactly at its ends.
    beliefs.general[:] = rng.normal(0.3, 0.4, len(beliefs.general))
    beliefs.offset[:] = rng.normal(0, 0.3, beliefs.offset.shape).astype(np.float32)
    beliefs.general[:10], beliefs.offset[:10] = 0.0, 0.0
    beliefs.general[10:20], beliefs.offset[10:20] = 1.0, 0.0
    reference = Beliefs.__new__(Beliefs)
    reference.__dict__.update(beliefs.__dict__, general=beliefs.general.copy(),
                              offset=beliefs.offset.copy())
    for step in range(30):
        who = np.sort(rng.choice(300, size=int(rng.integers(1, 120)), replace=False))
        seen = rng.choice(40, size=cameras, replace=False)
        outcome, rate = float(step % 2), [0.05, 0.3, 1.0][step % 3]
        beliefs._move(who, seen, outcome, rate)
        move_by_rows_and_columns(reference, who, seen, outcome, rate)
        assert beliefs.offset.tobytes() == reference.offset.tobytes()
        assert beliefs.general.tobytes() == reference.general.tobytes()


@pytest.mark.parametrize("columns", range(1, 13))
def test_row_means_are_numpys_bit_for_bit(columns):
    rng = np.random.default_rng(columns)
    values = rng.normal(0, 1, (500, columns)) * 10.0 ** rng.integers(-9, 3, (500, columns))
    values[:20] = 0.0
    values[20:40] = -0.0
    values[40:60, 0] = -0.0
    assert row_means(values).tobytes() == values.mean(axis=1).tobytes()


@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (40, 53), (250, 195), (8, 8192), (9, 8191),
                                   (1, 100_000), (2500, 39), (700, 1950)])
def test_clipped_mean_is_numpys_bit_for_bit(shape):
    rng = np.random.default_rng(shape[0] * 7 + shape[1])
    # Beliefs of every magnitude, so that the order of adding changes the sum's last bits.
    offset = (rng.normal(0, 0.4, shape) * 10.0 ** rng.integers(-30, 1, shape)).astype(np.float32)
    offset[: shape[0] // 5] = 0.0
    general = rng.uniform(-0.2, 0.9, shape[0]).astype(np.float32)
    general[shape[0] // 2:] = 0.0
    expected = np.clip(offset + general[:, None], 0.0, 1.0).mean(dtype=np.float64)
    got = clipped_mean(offset, general, clipped_mean_scratch(shape))
    assert np.float64(got).tobytes() == expected.tobytes()


def test_mean_camera_risk_of_a_run_is_numpys_bit_for_bit():
    model = SafeCityModel(small("run.days=40", "offenders.count=300", "cameras.count=120"))
    model.run_days(40)
    beliefs = model.beliefs
    assert np.count_nonzero(beliefs.offset)  # offenders have learned of some cameras
    expected = np.clip(beliefs.offset + beliefs.general.astype(np.float32)[:, None],
                       0.0, 1.0).mean(dtype=np.float64)
    assert np.float64(beliefs.mean_camera_risk()).tobytes() == expected.tobytes()
