"""Writing results: atomic files, whole folders, the run folder, and the provenance manifest.

A file is written under a temporary name and renamed into place; a run folder is written whole
under a temporary name beside it and renamed at the end. Either is complete or absent, however
the writing stops (a full disk, Ctrl-C, a kill).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import abm
from abm.config import Config, ConfigError

if TYPE_CHECKING:  # annotations only: a sweep imports pandas once its workers are starting
    import pandas as pd

KEY_PACKAGES = ("mesa", "numpy", "scipy", "networkx", "pandas", "pyarrow", "pydantic")


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Write through ``write(tmp_path)`` into a temporary file, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give files the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_writable(path: str | Path, flag: str) -> Path:
    """Refuse a file target that cannot be written, before any work is done for it."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{flag} {path}: is a folder, not a file")
    return _check_parent(path, flag)


def _check_parent(path: Path, flag: str) -> Path:
    """The nearest existing folder above ``path`` must be a folder we can write in."""
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ConfigError(f"{flag} {path}: {ancestor} is not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ConfigError(f"{flag} {path}: cannot write in {ancestor}")
    return path


def output_kind(folder: Path) -> str | None:
    """What an output folder holds by its manifest: "run", "sweep", "evaluation", "" for one of
    ours from before manifests said, None for anything else."""
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("package") != "safecity-abm":
        return None
    kind = data.get("kind", "")
    return kind if isinstance(kind, str) else None


def check_folder(out: str | Path, kind: str, flag: str = "--out") -> Path:
    """Refuse an output folder that ``whole_folder`` would not replace, before any work."""
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise ConfigError(f"{flag} {out}: exists and is not a folder")
        if any(out.iterdir()) and output_kind(out) not in (kind, ""):
            article = "an" if kind[:1] in "aeiou" else "a"
            raise ConfigError(f"{flag} {out}: not empty and not {article} {kind} folder; "
                              "choose another folder")
    else:
        _check_parent(out, flag)
    return out


@contextmanager
def whole_folder(out: str | Path, kind: str, flag: str = "--out") -> Iterator[Path]:
    """Yield a temporary folder beside ``out`` to write into; at the end it is renamed to
    ``out``, so ``out`` is complete or does not exist. An existing ``out`` is replaced only when
    it is empty or an earlier output of the same ``kind`` (never a folder of other files)."""
    given = check_folder(out, kind, flag)
    out = given.resolve()  # "." has no name to put a temporary one beside
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        raise ConfigError(f"{flag} {given}: cannot write ({exc.strerror or exc})") from None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; give the usual mode
        if out.exists():
            old = tmp.with_name(tmp.name.removesuffix(".tmp") + ".old")
            os.rename(out, old)
            try:
                os.rename(tmp, out)
            except BaseException:
                os.rename(old, out)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_json(path: str | Path, data: dict) -> Path:
    return write_text(path, json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n")


def write_parquet(path: str | Path, frame: pd.DataFrame) -> Path:
    return atomic_write(path, lambda p: frame.to_parquet(p, index=False))


def git_commit() -> str | None:
    """The source tree's commit, when it is a git checkout."""
    root = Path(abm.__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def manifest(config: Config, wall_s: float | None = None, city: dict | None = None) -> dict:
    """Provenance of a run or sweep: versions, commit, config hash, seed, wall time, city."""
    versions = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "package": "safecity-abm",
        "package_version": abm.__version__,
        "git_commit": git_commit(),
        "config_hash": config.hash(),
        "seed": config.run.seed,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": versions,
        "wall_time_s": None if wall_s is None else round(wall_s, 3),
        **({"city": city} if city else {}),
    }


def default_out_dir(config: Config, root: str | Path = "runs") -> Path:
    return Path(root) / f"{config.run.name or 'run'}-{config.hash()}"


def write_run(result, out_dir: str | Path) -> Path:
    """Write a run folder whole (or not at all); a rerun replaces an earlier run folder."""
    out = Path(out_dir)
    with whole_folder(out, "run") as tmp:
        write_text(tmp / "config.yaml", result.config.to_yaml())
        write_parquet(tmp / "crimes.parquet", result.crimes)
        write_parquet(tmp / "metrics.parquet", result.metrics)
        write_json(tmp / "summary.json", result.summary)
        if getattr(result, "cameras", None) is not None:
            write_parquet(tmp / "cameras.parquet", result.cameras)
        write_json(tmp / "manifest.json", {
            "kind": "run", **manifest(result.config, result.wall_s, getattr(result, "city", None))})
    return out
