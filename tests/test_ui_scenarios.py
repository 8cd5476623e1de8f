"""The scenario picker trusts nothing from the browser: crafted choices read nothing outside
the scenario folder and echo nothing from outside it.

The page is rendered with Solara's test renderer and the picker's widget is sent the values a
crafted change event could carry. An audit hook records every file and folder the server opens
while it handles them.
"""

import os
import sys
from pathlib import Path

import ipyvuetify as v
import pytest
import solara
import yaml

from abm.config import ConfigError
from abm.ui.scenarios import list_scenarios, load_scenario
from abm.ui.state import AppState

TOWN = {"run": {"days": 2, "seed": 3}, "city": {"nodes": 150}, "offenders": {"count": 20},
        "police": {"units": 2}, "cameras": {"count": 4}}
SECRET = "TOPSECRET-7f3a"

_recording: list[list] = []


def _audit(event: str, args: tuple) -> None:
    if _recording and event in ("open", "os.listdir", "os.scandir") and args:
        target = args[0]
        if isinstance(target, str | bytes | os.PathLike):
            _recording[-1].append(os.fsdecode(target))


sys.addaudithook(_audit)  # hooks cannot be removed: it records only inside `opened()`


class opened:  # noqa: N801 - used as `with opened() as paths:`
    """The paths opened or listed inside the block, Python's own files left out."""

    def __enter__(self) -> list[str]:
        _recording.append([])
        return _recording[-1]

    def __exit__(self, *exc) -> None:
        paths = _recording.pop()
        code = (sys.prefix, sys.base_prefix, str(Path(__file__).resolve().parent.parent / "abm"))
        paths[:] = [p for p in paths if not str(Path(p).resolve()).startswith(code)]


@pytest.fixture
def folders(tmp_path):
    """A scenario folder, and beside it files the picker must never read."""
    root = tmp_path / "scenarios"
    (root / "sub").mkdir(parents=True)
    (root / "default.yaml").write_text(yaml.safe_dump(TOWN))
    (root / "sub" / "variant.yaml").write_text(yaml.safe_dump({**TOWN, "run": {"days": 3}}))
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = {**TOWN, "run": {"days": 7, "name": SECRET}}
    (outside / "secret.yaml").write_text(yaml.safe_dump(secret))
    (outside / "broken.yaml").write_text(f"cameras:\n  count: {SECRET}\n")
    (root / "link.yaml").symlink_to(outside / "secret.yaml")  # a link out of the folder
    (root / "sub" / "up").symlink_to(outside, target_is_directory=True)
    return root, outside


def render(root: Path):
    import app

    states = []
    original = app.AppState
    app.AppState = lambda: states.append(AppState(config_dir=root)) or states[-1]
    try:
        _, rc = solara.render(app.App(), handle_error=False)
    finally:
        app.AppState = original
    return states[0], rc


def crafted(root: Path, outside: Path) -> list:
    return [
        "../outside/secret.yaml", "sub/../../outside/secret.yaml", "sub/up/secret.yaml",
        str(outside / "secret.yaml"), str(outside / "broken.yaml"), "link.yaml",
        "/etc/passwd", "/etc/shadow", "/dev/zero", "/proc/self/environ", "~/.ssh/id_rsa",
        "secret", "default", "default.yaml\0../outside/secret.yaml", "." * 5000,
        str(root / "default.yaml"), "", 5, None, ["default.yaml"], {"path": "/etc/passwd"},
    ]


def test_only_listed_files_are_offered(folders):
    root, _ = folders
    assert list_scenarios(root) == ["default.yaml", "sub/variant.yaml"]  # no link out


def test_crafted_choices_read_nothing_outside_the_folder(folders):
    root, outside = folders
    state, rc = render(root)
    picker = rc.find(v.Select, label="Scenario (configs/)").widget
    assert picker.items == ["default.yaml", "sub/variant.yaml"]
    good = state.config.value
    for value in crafted(root, outside):
        with opened() as paths:
            picker.v_model = value
        message = state.message.value
        assert len(message.splitlines()) == 1 and len(message) < 300, message[:400]
        assert "not a listed scenario" in message, message
        assert SECRET not in message and "root:" not in message
        assert state.config.value == good and state.run.config == good  # the run stays
        for path in paths:
            assert Path(path).resolve().is_relative_to(root.resolve()), (value, path)
            assert not Path(path).resolve().is_relative_to(outside.resolve()), (value, path)
        state.message.set("")
    picker.v_model = "sub/variant.yaml"  # a listed name still works afterwards
    assert state.config.value.run.days == 3 and state.message.value == ""


def test_a_broken_listed_file_is_named_by_its_listed_name(folders):
    root, _ = folders
    (root / "sub" / "bad.yaml").write_text("cameras:\n  count: -3\n")
    with pytest.raises(ConfigError) as err:
        load_scenario("sub/bad.yaml", root)
    assert str(err.value).startswith("sub/bad.yaml: cameras.count")
    assert str(root) not in str(err.value)  # the server's own path is not shown


def test_oversized_file_in_the_folder_is_refused_unread(folders, monkeypatch):
    root, _ = folders
    from abm import config

    monkeypatch.setattr(config, "MAX_YAML_BYTES", 1000)
    monkeypatch.setattr(config.read_yaml, "__defaults__", (1000,))
    (root / "big.yaml").write_text("run: {days: 3}\n# " + "x" * 5000 + "\n")
    with pytest.raises(ConfigError, match="larger than"):
        load_scenario("big.yaml", root)
