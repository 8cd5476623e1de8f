"""The scenario picker: every config under configs/ (recursively), the files `abm run` runs."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import solara

from abm.config import Config, ConfigError, load, read_yaml

# The project's configs/ folder; ABM_CONFIG_DIR points the picker at another folder.
CONFIG_DIR = Path(os.environ.get("ABM_CONFIG_DIR")
                  or Path(__file__).resolve().parent.parent.parent / "configs")
DEFAULT_SCENARIO = "default.yaml"


def is_scenario(path: Path) -> bool:
    """Whether a YAML file is a scenario (what `abm run` takes), not e.g. a sweep file.

    A file naming no config section at all is another kind of file and is left out; a file that
    does not parse, or names a section with bad values, is a broken scenario and is kept, so
    choosing it shows what is wrong.
    """
    try:
        data = read_yaml(path)
    except ConfigError:
        return True
    if not isinstance(data, dict) or not data:
        return True
    return any(key in Config.model_fields for key in data)


def list_scenarios(root: Path = CONFIG_DIR) -> list[str]:
    """Scenario files under ``root`` as sorted relative paths (``default.yaml`` first)."""
    if not root.is_dir():
        return []
    found = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                   if p.suffix in (".yaml", ".yml") and p.is_file() and is_scenario(p))
    if DEFAULT_SCENARIO in found:
        found.remove(DEFAULT_SCENARIO)
        found.insert(0, DEFAULT_SCENARIO)
    return found


def load_scenario(name: str, root: Path = CONFIG_DIR) -> Config:
    """Load one scenario by its relative path; raises ConfigError with a one-line message."""
    return load(root / name)


@solara.component
def ScenarioPicker(names: list[str], value: str | None, on_value: Callable[[str], None]) -> None:
    """The files, plus the current label when it names no file (a lesson step), so the picker
    always says what is loaded."""
    values = names if value is None or value in names else [*names, value]
    solara.Select(label="Scenario (configs/)", values=values, value=value, on_value=on_value)
