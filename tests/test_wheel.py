"""The built wheel works outside the checkout: scenarios come from the package, by name.

Builds the wheel with `python -m build` from a copy of the source tree, installs it into a
fresh virtual environment in a temporary folder, and runs `abm` there from another temporary
folder, far from the checkout. The fresh environment borrows the test environment's installed
libraries (numpy, Mesa, ...) through a path file, so the test needs no network and stays quick;
the package itself, its scenarios and its data come only from the wheel, which the test checks.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from abm import catalog
from tests.conftest import ROOT


def sh(*args, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, f"{args}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict]:
    """(the fresh environment's bin folder, an environment for running it)."""
    tmp = tmp_path_factory.mktemp("wheel")
    files = sh("git", "ls-files", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    source = tmp / "src"
    for name in files.stdout.splitlines():
        if (ROOT / name).is_file():  # (a file deleted in the work tree is not copied)
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    sh(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", tmp / "dist",
       source, cwd=tmp)
    [wheel] = (tmp / "dist").glob("safecity_abm-*.whl")
    venv = tmp / "venv"
    sh(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp)
    python = venv / "bin" / "python"
    sh(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
       "-q", wheel, cwd=tmp)
    site = Path(sh(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                   cwd=tmp).stdout.strip())
    (site / "borrowed-libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return venv / "bin", env, wheel


def test_the_wheel_carries_every_shipped_file(installed):
    *_, wheel = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in catalog.CONFIG_DIR.rglob("*.yaml"):
        assert f"abm/{path.relative_to(catalog.PACKAGE).as_posix()}" in names
    assert {"abm/data/mesa_az.graphml", "abm/data/helsinki.osm.pbf", "abm/data/README.md"} <= names


def test_run_and_evaluate_by_name_outside_the_checkout(installed, tmp_path):
    bin_dir, env, _ = installed
    where = sh(bin_dir / "python", "-c", "import abm; print(abm.__file__)", cwd=tmp_path,
               env=env).stdout.strip()
    assert Path(where).is_relative_to(bin_dir.parent), where  # the wheel's copy, not ROOT's
    sh(bin_dir / "abm", "run", "teaching-town", "--set", "run.days=3", cwd=tmp_path, env=env)
    [run] = (tmp_path / "runs").glob("teaching-town-*")
    assert json.loads((run / "summary.json").read_text())["sim_days"] == 3
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["git_commit"] is None  # not a checkout: nothing claimed
    # The evaluation needs 30 days after go-live: the shipped teaching town goes live on day
    # 120, so 20 days are refused in one line, and an earlier go-live evaluates.
    short = subprocess.run([bin_dir / "abm", "evaluate", "teaching-town", "--replicates", "2",
                            "--set", "run.days=20"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=900)
    assert short.returncode == 2 and "run.days" in short.stderr, short.stderr[-2000:]
    done = sh(bin_dir / "abm", "evaluate", "teaching-town", "--replicates", "2", "--set",
              "run.days=40", "--set", "cameras.install_day=10", cwd=tmp_path, env=env)
    assert "tables, plots and report in runs/evaluate-teaching-town-" in done.stdout
    [evaluation] = (tmp_path / "runs").glob("evaluate-teaching-town-*")
    assert (evaluation / "report.md").exists() and (evaluation / "effects.parquet").exists()
    listing = sh(bin_dir / "abm", "scenarios", cwd=tmp_path, env=env).stdout
    assert "islamabad" in listing and str(bin_dir.parent) in listing
    sh(bin_dir / "abm", "init", "study", cwd=tmp_path, env=env)
    sh(bin_dir / "abm", "run", "study/configs/real-city.yaml", "--set", "run.days=2",
       "--out", "real", cwd=tmp_path, env=env)  # the copied file finds the copied streets
    assert not (ROOT / "runs" / run.name).exists()
