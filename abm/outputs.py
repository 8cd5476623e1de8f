"""Writing results: atomic files, the run folder, and the provenance manifest."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pandas as pd

import abm
from abm.config import Config

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
    """Write a run folder; files appear whole or not at all, and a rerun replaces them."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "config.yaml", result.config.to_yaml())
    write_parquet(out / "crimes.parquet", result.crimes)
    write_parquet(out / "metrics.parquet", result.metrics)
    write_json(out / "summary.json", result.summary)
    if getattr(result, "cameras", None) is not None:
        write_parquet(out / "cameras.parquet", result.cameras)
    write_json(out / "manifest.json",
               manifest(result.config, result.wall_s, getattr(result, "city", None)))
    return out
