import pytest

from abm import config as cfg
from abm.config import Config, ConfigError


def test_defaults_are_valid_and_hash_is_stable():
    a, b = Config(), Config()
    assert a.hash() == b.hash()
    assert len(a.hash()) == 8
    b.cameras.count = 31
    assert a.hash() != b.hash()


def test_required_override_keys_exist():
    c = cfg.from_overrides(["run.days=3", "run.seed=7", "cameras.count=5",
                            "cameras.mtbf_days=10", "cameras.mttr_days=2", "police.units=3",
                            "offenders.count=9"])
    assert (c.run.days, c.run.seed, c.cameras.count, c.cameras.mtbf_days) == (3, 7, 5, 10)
    assert (c.cameras.mttr_days, c.police.units, c.offenders.count) == (2, 3, 9)


@pytest.mark.parametrize("override, fragment", [
    ("cameras.cout=3", "cameras.cout: unknown key"),
    ("nosuch.key=1", "nosuch.key: unknown key"),
    ("cameras=3", "is a section"),
    ("cameras.count=-1", "cameras.count"),
    ("cameras.count=abc", "cameras.count"),
    ("offenders.initial_camera_risk=1.5", "offenders.initial_camera_risk"),
    ("police.patrol=teleport", "police.patrol"),
    ("cameras.count", "expected section.key=value"),
    ("=3", "expected section.key=value"),
    ("run.days=[1", "cannot parse value"),
])
def test_bad_overrides_name_the_key(override, fragment):
    with pytest.raises(ConfigError) as err:
        cfg.from_overrides([override])
    message = str(err.value)
    assert fragment in message
    assert "\n" not in message


def test_load_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        cfg.load(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("run: [days: 3\n")
    with pytest.raises(ConfigError, match="malformed YAML"):
        cfg.load(bad)
    extra = tmp_path / "extra.yaml"
    extra.write_text("run:\n  days: 3\n  colour: red\n")
    with pytest.raises(ConfigError, match=r"extra.yaml: run.colour: unknown key"):
        cfg.load(extra)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("3\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        cfg.load(scalar)


def test_load_names_run_after_file_and_resolves_graph(tmp_path, monkeypatch):
    f = tmp_path / "town.yaml"
    f.write_text("city:\n  file: streets.graphml\n")
    c = cfg.load(f)
    assert c.run.name == "town"
    assert c.city.source == "file"
    assert c.city.file == str(tmp_path / "streets.graphml")
    # The older key still reads; a path given with --set is relative to where you are.
    f.write_text("city:\n  graph_file: streets.graphml\n")
    assert cfg.load(f).city.file == str(tmp_path / "streets.graphml")
    monkeypatch.chdir(tmp_path.parent)
    c = cfg.load(f, ["city.file=elsewhere.osm"])
    assert c.city.file == str(tmp_path.parent / "elsewhere.osm")


def test_city_source_and_camera_list_settings():
    assert cfg.from_overrides([]).city.source == "generator"
    # A file given is the source, even over a dumped `source: generator` (sweeps, twins).
    c = cfg.from_overrides(["city.file=a.osm", "city.source=generator", "city.nodes=400"])
    assert c.city.file == "a.osm" and c.city.source == "file"
    c = cfg.from_overrides(["city.file=null", "city.nodes=400"])
    assert c.city.source == "generator" and c.city.nodes == 400
    c = cfg.from_overrides(["cameras.nodes=[4, 9, 2]"])
    assert (c.cameras.placement, c.cameras.count) == ("list", 3)
    for overrides, fragment in [
        (["city.source=file"], "city.file is required"),
        (["cameras.placement=list"], "cameras.nodes is required"),
        (["cameras.nodes=[1, 1]"], "lists a place twice"),
        (["cameras.placement=everywhere"], "cameras.placement"),
        (["cameras.busiest_by=fame"], "cameras.busiest_by"),
        (["cameras.burn_in_days=0"], "cameras.burn_in_days"),
    ]:
        with pytest.raises(ConfigError, match=fragment) as err:
            cfg.from_overrides(overrides)
        assert "\n" not in str(err.value)


def test_a_dotted_key_reads_its_setting_and_nothing_else():
    c = cfg.from_overrides(["cameras.count=60", "police.patrol=beat"])
    assert c.get("cameras.count") == 60 and c.get("police.patrol") == "beat"
    assert c.get("timeline") == []
    for key, fragment in [("cameras.cout", "cameras.cout: unknown key"),
                          ("cameras", "cameras: is a section"),
                          ("run.days.x", "run.days.x: days is not a section")]:
        with pytest.raises(ConfigError, match=fragment):
            c.get(key)


def test_a_changed_copy_is_validated_and_leaves_the_original():
    c = Config()
    d = c.changed({"cameras.count": 60, "run.seed": 3, "police.patrol": "random"})
    assert (d.cameras.count, d.run.seed, d.police.patrol) == (60, 3, "random")
    assert (c.cameras.count, c.run.seed) == (30, 42)
    assert c.changed({}) == c
    assert c.changed({"run.seed": " 11 "}).run.seed == 11  # a typed number, read as one
    # Validated as a whole: settings that belong together are checked together.
    assert c.changed({"cameras.nodes": [4, 9, 2], "cameras.placement": "list"}).cameras.count == 3
    for changes, message in [
        ({"cameras.cout": 3}, "twin: cameras.cout: unknown key"),
        ({"cameras": 3}, "twin: cameras: is a section, name a key in it"),
        ({"cameras.count": -1}, "twin: cameras.count: Input should be greater than or equal "
                                "to 0 (got -1)"),
        ({"cameras.repair": 1}, "twin: cameras.repair: expected true or false (got 1)"),
        ({"run.seed": "abc"}, "twin: run.seed"),
        ({"cameras.placement": "list"}, "twin: cameras: cameras.nodes is required"),
    ]:
        with pytest.raises(ConfigError) as err:
            c.changed(changes, origin="twin")
        assert str(err.value).startswith(message), str(err.value)
        assert "\n" not in str(err.value)


def test_only_settings_marked_mid_run_change_in_place():
    assert "police.units" in cfg.MUTABLE and "victims.report_prob_theft" in cfg.MUTABLE
    assert "cameras.count" not in cfg.MUTABLE and "city.nodes" not in cfg.MUTABLE
    marked = {row["key"] for row in cfg.parameter_table() if row["mid_run"]}
    assert marked == cfg.MUTABLE
    c = Config()
    section = c.police
    c.assign({"police.units": 3, "cameras.repair": False})
    assert section.units == 3 and c.cameras.repair is False
    with pytest.raises(ConfigError, match="cameras.count cannot change during a run"):
        c.assign({"cameras.count": 3})
    with pytest.raises(ValueError):
        c.assign({"police.units": -1})


def test_every_parameter_is_documented():
    rows = cfg.parameter_table()
    assert len(rows) > 60
    for row in rows:
        assert row["unit"], row["key"]
        assert row["description"], row["key"]
        assert row["source"], row["key"]


@pytest.mark.parametrize("timeline, fragment", [
    ([{"day": 365, "set": {"cameras.count": 3}}], "cameras.count cannot change during a run"),
    ([{"day": 365, "set": {"cameras.operators": -3}}], "timeline day 365: cameras.operators"),
    ([{"day": -1, "set": {"cameras.operators": 3}}], "timeline.0.day"),
    ([{"day": 1, "set": {}}], "timeline.0: a timeline entry needs set or news"),
    ([{"day": 1, "news": {"cameras_broken_share": 1.5}}],
     "timeline.0.news.cameras_broken_share"),
    ([{"day": 1, "news": {"share": 0.5}}], "timeline.0.news.share: unknown key"),
    ([{"day": 1, "when": 3, "set": {"police.units": 2}}], "timeline.0.when: unknown key"),
])
def test_bad_timelines_are_one_line_errors(timeline, fragment):
    with pytest.raises(ConfigError) as err:
        cfg.validate({"timeline": timeline}, origin="s.yaml")
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_yaml_dates_and_odd_values_do_not_crash_overrides(tmp_path):
    f = tmp_path / "dated.yaml"
    f.write_text("run:\n  name: 2016-01-01\n")
    with pytest.raises(ConfigError, match="run.name"):
        cfg.load(f)


def test_odd_parameter_table_is_current(root, tmp_path):
    from tests.conftest import abm_cli

    assert abm_cli("params", "--check", str(root / "docs/ODD.md")).returncode == 0
    stale = tmp_path / "ODD.md"
    stale.write_text(f"# x\n{cfg.PARAMS_BEGIN}\n| old |\n{cfg.PARAMS_END}\n")
    assert abm_cli("params", "--check", str(stale)).returncode == 1
    assert abm_cli("params", "--write", str(stale)).returncode == 0
    assert "`cameras.mtbf_days`" in stale.read_text()
    assert abm_cli("params", "--check", str(stale)).returncode == 0
