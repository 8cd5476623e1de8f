"""The scenario picker: the scenario files under the scenario folder, the files `abm run` runs.

The browser can send any value as the picker's choice, so a choice is only ever looked up
among the listed files (``abm.catalog.find``): a path of its own is never opened, nothing
outside the folder is read, and messages name the file by its listed name, not the server's
path.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import solara

from abm import catalog
from abm.config import Config, ConfigError, load

# The package's scenario folder; ABM_CONFIG_DIR points the picker at another folder (the
# copy `abm init DIR` makes, say).
CONFIG_DIR = Path(os.environ.get("ABM_CONFIG_DIR") or catalog.CONFIG_DIR)
DEFAULT_SCENARIO = "default.yaml"


def list_scenarios(root: Path = CONFIG_DIR) -> list[str]:
    """Scenario files under ``root`` as sorted relative paths (``default.yaml`` first)."""
    found = list(catalog.listing(catalog.Kind.SCENARIO, Path(root)))
    if DEFAULT_SCENARIO in found:
        found.remove(DEFAULT_SCENARIO)
        found.insert(0, DEFAULT_SCENARIO)
    return found


def load_scenario(name: str, root: Path = CONFIG_DIR) -> Config:
    """Load one listed scenario; anything else is a ConfigError with a one-line message."""
    path = catalog.find(name, catalog.Kind.SCENARIO, Path(root), exact=True)
    try:
        return load(path)
    except ConfigError as exc:
        raise ConfigError(str(exc).replace(str(path), name)) from None


@solara.component
def ScenarioPicker(names: list[str], value: str | None, on_value: Callable[[str], None]) -> None:
    """The files, plus the current label when it names no file (a lesson step), so the picker
    always says what is loaded."""
    values = names if value is None or value in names else [*names, value]
    solara.Select(label="Scenario (configs/)", values=values, value=value, on_value=on_value)
