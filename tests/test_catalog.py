"""Shipped configuration files: found by name from any folder, listed, copied out to edit."""

import json

import pytest
import yaml

from abm import catalog, lessons
from abm.catalog import Kind
from abm.config import ConfigError, load
from abm.experiment.sweepfile import load_sweep
from tests.conftest import ROOT, abm_cli

SCENARIOS = {"default", "real-city", "helsinki", "city-scale", "city-40k", "city-100k",
             "islamabad-full", "islamabad", "islamabad-staff-moved", "mombasa", "nairobi",
             "no-repairs", "teaching-town"}


def stems(kind: Kind) -> set[str]:
    return {path.stem for path in catalog.listing(kind).values()}


def test_every_shipped_file_is_listed_under_its_kind():
    assert stems(Kind.SCENARIO) == SCENARIOS
    assert stems(Kind.SWEEP) >= {"smoke", "coverage-uptime", "placement", "camera-sensitivity"}
    assert stems(Kind.LESSON) == {"why-cameras-failed", "cameras-or-police"}
    assert stems(Kind.DISCOVERY) == {"islamabad-rise"}
    every = {p for kind in Kind for p in catalog.listing(kind).values()}
    assert every == set(catalog.CONFIG_DIR.rglob("*.yaml"))  # nothing shipped is left out


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_each_scenario_loads_by_name(name):
    path = catalog.find(name)
    assert path.is_relative_to(catalog.CONFIG_DIR) and path.stem == name
    assert load(path).run.name


def test_a_name_is_a_listed_path_or_a_unique_stem(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "town.yaml").write_text("run: {days: 2}\n")
    (tmp_path / "only.yaml").write_text("run: {days: 2}\n")
    assert catalog.find("only", root=tmp_path) == tmp_path / "only.yaml"
    assert catalog.find("a/town.yaml", root=tmp_path) == tmp_path / "a" / "town.yaml"
    assert catalog.find("b/town", root=tmp_path) == tmp_path / "b" / "town.yaml"
    with pytest.raises(ConfigError, match="more than one scenario"):
        catalog.find("town", root=tmp_path)
    with pytest.raises(ConfigError, match="not a listed scenario"):
        catalog.find("only", root=tmp_path, exact=True)  # the app takes listed paths only
    for crafted in ("../x.yaml", str(tmp_path / "only.yaml"), "a/../only.yaml", "/etc/passwd"):
        with pytest.raises(ConfigError):
            catalog.find(crafted, root=tmp_path)


def test_resolve_prefers_a_file_then_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert catalog.resolve("islamabad") == catalog.CONFIG_DIR / "scenarios" / "islamabad.yaml"
    (tmp_path / "islamabad").write_text("run: {days: 2}\n")
    assert catalog.resolve("islamabad").resolve() == tmp_path / "islamabad"  # the file is meant
    assert catalog.resolve("mine.yaml").resolve() == tmp_path / "mine.yaml"  # a path, not a name
    assert catalog.resolve("smoke", Kind.SWEEP).parent.name == "sweeps"
    with pytest.raises(ConfigError, match="abm scenarios"):
        catalog.resolve("atlantis")


def test_lessons_and_sweeps_find_their_scenarios_by_name(tmp_path):
    (tmp_path / "l.yaml").write_text(
        "title: L\nsummary: S\nsteps:\n"
        "  - {title: A, scenario: teaching-town, set: {run.days: 2}, text: T, question: Q}\n")
    lesson = lessons.load(tmp_path / "l.yaml")
    assert lesson.config(0).city.nodes == load(catalog.find("teaching-town")).city.nodes
    assert lessons.load("why-cameras-failed").title.startswith("Why did 1,950 cameras")
    (tmp_path / "s.yaml").write_text("base: default\nseed: 1\nset: {run.days: 2}\ndesign:\n"
                                     "  kind: grid\n  parameters: {cameras.count: [0, 5]}\n")
    assert load_sweep(tmp_path / "s.yaml").base.city.nodes == 900
    assert load_sweep("smoke").name == "smoke"


def test_abm_scenarios_lists_every_shipped_file_with_its_command():
    done = abm_cli("scenarios")
    assert done.returncode == 0, done.stderr
    for name in SCENARIOS | stems(Kind.SWEEP) | stems(Kind.LESSON):
        assert f"  {name} " in done.stdout or done.stdout.count(f"  {name}\n"), name
    assert "abm run NAME" in done.stdout and "abm sweep NAME" in done.stdout
    assert "Islamabad Safe City" in done.stdout  # each with a line about it


def test_run_by_name_from_another_folder(tmp_path):
    done = abm_cli("run", "teaching-town", "--set", "run.days=2", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [folder] = (tmp_path / "runs").iterdir()
    assert folder.name.startswith("teaching-town-")
    assert json.loads((folder / "summary.json").read_text())["sim_days"] == 2


def test_init_copies_the_files_to_edit_and_never_overwrites(tmp_path):
    done = abm_cli("init", "study", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    copied = tmp_path / "study" / "configs"
    shipped = sorted(p.relative_to(catalog.CONFIG_DIR) for p in catalog.CONFIG_DIR.rglob("*.yaml"))
    assert sorted(p.relative_to(copied) for p in copied.rglob("*.yaml")) == shipped
    assert (tmp_path / "study" / "data" / "README.md").exists()  # attributions travel along
    # Relative paths still hold in the copy: the real city's street file, sweeps' bases.
    real = load(copied / "real-city.yaml")
    assert real.city.file == str(tmp_path / "study" / "data" / "mesa_az.graphml")
    assert load_sweep(copied / "sweeps" / "smoke.yaml").base.run.days > 0
    lesson = yaml.safe_load((copied / "lessons" / "why-cameras-failed.yaml").read_text())
    assert (copied / "lessons" / lesson["steps"][0]["scenario"]).exists()
    edited = copied / "default.yaml"
    edited.write_text(edited.read_text() + "\n# mine\n")
    again = abm_cli("init", "study", cwd=tmp_path)
    assert again.returncode == 2 and "never overwrites" in again.stderr
    assert edited.read_text().endswith("# mine\n")
    assert not [p for p in (tmp_path / "study").iterdir() if p.name.startswith(".")]


def test_the_app_picker_lists_the_shipped_scenarios():
    from abm.ui.scenarios import list_scenarios

    names = list_scenarios(catalog.CONFIG_DIR)
    assert names[0] == "default.yaml"
    assert {n.rsplit("/", 1)[-1].removesuffix(".yaml") for n in names} == SCENARIOS
    assert (ROOT / "abm" / "configs") == catalog.CONFIG_DIR
