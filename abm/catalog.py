"""The shipped configuration files and finding one by name.

Scenarios, sweeps, lessons and bench workloads ship inside the package (``abm/configs/``), so
an installed wheel runs ``abm run islamabad`` from any folder, and ``abm init DIR`` copies them
out to edit. The commands, the lessons and the app's scenario picker all find a file by name
through ``find``, which only ever returns a file listed under the folder it searches: a name
is a listed relative path (``scenarios/islamabad.yaml``) or a listed file's stem
(``islamabad``), never a path of its own.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Any

from abm.config import Config, ConfigError, read_yaml, shown

PACKAGE = Path(__file__).resolve().parent
CONFIG_DIR = PACKAGE / "configs"
DATA_DIR = PACKAGE / "data"
SUFFIXES = (".yaml", ".yml")


class Kind(StrEnum):
    """What a configuration file is, and the command that takes it."""

    SCENARIO = "scenario"
    SWEEP = "sweep"
    LESSON = "lesson"
    DISCOVERY = "discovery spec"


COMMANDS = {Kind.SCENARIO: "abm run NAME, abm evaluate NAME", Kind.SWEEP: "abm sweep NAME",
            Kind.LESSON: "abm lesson NAME", Kind.DISCOVERY: "abm discover NAME"}
# A file that cannot be read says by its folder what it was meant to be.
FOLDERS = {"sweeps": Kind.SWEEP, "lessons": Kind.LESSON, "discover": Kind.DISCOVERY}


def kind_of(data: Any, relative: Path) -> Kind | None:
    """A lesson has steps, a discovery spec uncertain inputs, a sweep a design (or a base
    scenario), a scenario names settings sections. A file that does not parse, is empty or is
    not a mapping is a broken file of its folder's kind, kept so that choosing it says what is
    wrong; a mapping of anything else is not a configuration file."""
    if isinstance(data, dict) and data:
        if "steps" in data:
            return Kind.LESSON
        if "uncertain" in data:
            return Kind.DISCOVERY
        if "design" in data or "base" in data:
            return Kind.SWEEP
        if any(key in Config.model_fields for key in data):
            return Kind.SCENARIO
        return None
    for part in relative.parts[:-1]:
        if part in FOLDERS:
            return FOLDERS[part]
    return Kind.SCENARIO


def _inside(path: Path, root: Path) -> bool:
    """Whether ``path``, links followed, is a regular file under ``root``."""
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return False
    return resolved.is_relative_to(root.resolve()) and resolved.is_file()


def listing(kind: Kind, root: Path = CONFIG_DIR) -> dict[str, Path]:
    """Files of one kind under ``root`` (recursively), by relative path, sorted.

    Only regular files that stay under ``root`` once links are followed are listed; each is
    read with the size limits of ``abm.config.read_yaml``.
    """
    root = Path(root)
    if not root.is_dir():
        return {}
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.suffix not in SUFFIXES or any(p.startswith(".") for p in relative.parts):
            continue
        if not _inside(path, root):
            continue
        try:
            data = read_yaml(path)
        except ConfigError:
            data = None
        if kind_of(data, relative) == kind:
            found[relative.as_posix()] = path
    return found


def _stem(name: str) -> str:
    for suffix in SUFFIXES:
        name = name.removesuffix(suffix)
    return name.rsplit("/", 1)[-1]


def find(name: str, kind: Kind = Kind.SCENARIO, root: Path = CONFIG_DIR,
         exact: bool = False) -> Path:
    """The file of ``kind`` called ``name`` under ``root``: a listed relative path, or (unless
    ``exact``) the stem of exactly one listed file. Anything else, however it is spelled, is a
    one-line error, and no other file is opened."""
    files = listing(kind, root)
    path = files.get(name) if isinstance(name, str) else None
    if path is None and exact:
        raise ConfigError(f"{shown(name)}: not a listed {kind}; choose one from the list")
    if path is None:
        matches = [p for rel, p in files.items() if name in (rel.rsplit(".", 1)[0], _stem(rel))]
        if len(matches) == 1:
            path = matches[0]
        elif matches:
            raise ConfigError(f"{name}: more than one {kind} has this name; give its path "
                              f"({', '.join(r for r, p in files.items() if p in matches)})")
    if path is None:
        names = ", ".join(sorted({_stem(r) for r in files})) or "none"
        raise ConfigError(f"{shown(name) if not name.isprintable() else name[:80]}: no such "
                          f"file, and no {kind} of that name ({names}; `abm scenarios` lists "
                          "them)")
    return path


def resolve(arg: str | Path, kind: Kind = Kind.SCENARIO, base: Path | None = None) -> Path:
    """What a command line (or a lesson, or a sweep's ``base``) names: an existing file, else
    a shipped file by name (``islamabad``). ``base`` is the folder relative paths start from."""
    path = Path(base or "") / arg
    if path.is_file() or Path(arg).suffix in SUFFIXES or len(Path(arg).parts) > 1:
        return path  # a path: reading it reports a missing or unreadable file
    return find(str(arg), kind)


def describe(path: Path) -> str:
    """One line about a file: its title or description, else its first comment line."""
    try:
        data = read_yaml(path)
    except ConfigError as exc:
        return f"(cannot be read: {str(exc).removeprefix(f'{path}: ')})"
    if isinstance(data, dict):
        for key in ("title", "description"):
            if isinstance(data.get(key), str):
                return data[key].strip().splitlines()[0]
    with path.open(encoding="utf-8", errors="replace") as file:
        for line in file:
            if line.startswith("#"):
                return line.lstrip("#").strip()
            if line.strip():
                break
    return ""


def catalogue(root: Path = CONFIG_DIR, width: int = 100) -> str:
    """The shipped files by kind, with the command that takes each and a line about it."""
    lines = []
    for kind in Kind:
        files = listing(kind, root)
        stems = [_stem(rel) for rel in files]
        # A stem shared by two files is not a name: show the path instead.
        names = [s if stems.count(s) == 1 else rel for s, rel in zip(stems, files, strict=True)]
        pad = max(map(len, names), default=0)
        lines.append(f"{kind}s ({COMMANDS[kind]}):")
        for name, path in zip(names, files.values(), strict=True):
            line = f"  {name:<{pad}}  {describe(path)}".rstrip()
            lines.append(line if len(line) <= width else line[: width - 3] + "...")
        if not files:
            lines.append("  (none)")
        lines.append("")
    lines.append(f"files in {root}; `abm init DIR` copies them to edit")
    return "\n".join(lines)


def init(dest: Path) -> list[Path]:
    """Copy the shipped configuration files to ``dest/configs`` and the street data they use
    to ``dest/data`` (the package's own layout, so relative paths keep working). Nothing that
    exists is overwritten; each folder appears whole or not at all."""
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise ConfigError(f"{dest}: exists and is not a folder")
    pairs = [(CONFIG_DIR, dest / "configs"), (DATA_DIR, dest / "data")]
    for _, target in pairs:
        if target.exists():
            raise ConfigError(f"{target}: exists; abm init never overwrites (choose another "
                              "folder, or move it away)")
    made = []
    try:
        dest.mkdir(parents=True, exist_ok=True)
        for source, target in pairs:
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=dest))
            try:
                shutil.copytree(source, tmp, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", ".*"))
                os.rename(tmp, target)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            made.append(target)
    except OSError as exc:
        raise ConfigError(f"{dest}: cannot write ({exc.strerror or exc})") from None
    return made
