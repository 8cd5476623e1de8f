"""A corpus of bad inputs, each run through the `abm` command line in its own process.

Every case must exit with status 2 and print one line naming the file (or option) and the key,
with no traceback, and write nothing: no output folder, no half-written file. Cases are
(id, files to create, argv, fragments the line must hold). In files and argv, ``{tmp}`` is the
case's folder, which is also the working folder.
"""

import resource
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import ROOT, abm_cli

TOWN = "run: {days: 3, seed: 1}\ncity: {nodes: 150}\noffenders: {count: 30}\n" \
       "police: {units: 2}\ncameras: {count: 5}\n"
HUGE = "9" * 5000  # beyond Python's 4,300-digit limit for reading integers
LONG = "9" * 4000  # readable, far beyond any bound

# A YAML "billion laughs": ten levels of ten aliases each, 10^10 values once expanded.
BOMB = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 10))
BOMB = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" + BOMB


def sweep(design: str, extra: str = "") -> str:
    return f"base: town.yaml\nseed: 1\n{extra}design:\n{design}"


def grid(n_keys: int, n_values: int) -> str:
    keys = ["offenders.count", "police.units", "cameras.count", "cameras.operators",
            "cameras.mttr_days"][:n_keys]
    return "  kind: grid\n  parameters:\n" + "".join(
        f"    {k}: [{', '.join(str(v + 1) for v in range(n_values))}]\n" for k in keys)


DISCOVER = "scenario: town.yaml\nsamples: 4\nseed: 1\nuncertain: {{offenders.count: {}}}\n" \
           "outcome: {{label: x, numerator: crimes_days:0-3, at_least: 1}}\n"
LESSON_STEP = "  - {title: A, scenario: town.yaml, text: T, question: Q}\n"
SLOW_LESSON = ("title: Slow\nsummary: S\nsteps:\n"
               "  - {title: A, scenario: town.yaml, set: {run.days: 3650, city.nodes: 20000,"
               " offenders.count: 20000}, text: T, question: Q}\n")

CASES = [
    # --- numbers, types and names --------------------------------------------------------
    ("huge-int-yaml", {"s.yaml": f"offenders:\n  count: {HUGE}\n"},
     ["run", "s.yaml"], ["s.yaml", "4,300 digits"]),
    ("huge-int-set", {"town.yaml": TOWN}, ["run", "town.yaml", "--set",
                                           f"offenders.count={HUGE}"],
     ["town.yaml", "offenders.count", "4,300 digits"]),
    ("long-int-yaml", {"s.yaml": f"offenders:\n  count: {LONG}\n"},
     ["run", "s.yaml"], ["s.yaml", "offenders.count", "4,000 digits"]),
    ("bool-count", {"s.yaml": "offenders:\n  count: true\n"},
     ["run", "s.yaml"], ["s.yaml", "offenders.count", "not true or false"]),
    ("number-for-bool", {"s.yaml": "cameras:\n  repair: 1\n"},
     ["run", "s.yaml"], ["s.yaml", "cameras.repair", "true or false"]),
    ("bool-in-node-list", {"s.yaml": "cameras:\n  nodes: [1, true]\n"},
     ["run", "s.yaml"], ["s.yaml", "cameras.nodes"]),
    ("empty-scenario", {"s.yaml": ""}, ["run", "s.yaml"], ["s.yaml", "empty file"]),
    ("comment-only-scenario", {"s.yaml": "# nothing here\n"}, ["run", "s.yaml"],
     ["s.yaml", "empty file"]),
    ("list-scenario", {"s.yaml": "- 1\n- 2\n"}, ["run", "s.yaml"], ["s.yaml", "list"]),
    ("absolute-run-name", {"s.yaml": "run:\n  name: /tmp/elsewhere\n"},
     ["run", "s.yaml"], ["s.yaml", "run.name"]),
    ("parent-run-name", {"town.yaml": TOWN}, ["run", "town.yaml", "--set", "run.name=../up"],
     ["town.yaml", "run.name"]),
    ("bad-name", {}, ["run", "no-such-scenario"], ["no-such-scenario", "abm scenarios"]),
    ("impossible-date", {"s.yaml": "run:\n  name: 2020-13-45\n"}, ["run", "s.yaml"],
     ["s.yaml", "malformed YAML"]),
    ("line-break-in-name", {}, ["run", "a\nb.yaml"], ["a\\nb.yaml"]),
    ("not-utf8", {"s.yaml": b"run: {days: \xff}\n"}, ["run", "s.yaml"], ["s.yaml", "UTF-8"]),
    ("deep-nesting", {"s.yaml": "cameras:\n  nodes: " + "[" * 5000 + "]" * 5000 + "\n"},
     ["run", "s.yaml"], ["s.yaml"]),
    ("endless-device", {}, ["run", "/dev/zero"], ["/dev/zero", "larger than"]),
    # --- bounded before expanding --------------------------------------------------------
    ("alias-bomb-scenario", {"s.yaml": BOMB + "cameras:\n  nodes: *l9\n"},
     ["run", "s.yaml"], ["s.yaml", "aliases"]),
    ("recursive-alias", {"s.yaml": "cameras:\n  nodes: &a [1, *a]\n"},
     ["run", "s.yaml"], ["s.yaml", "contains itself"]),
    ("alias-bomb-grid", {"town.yaml": TOWN, "sw.yaml": BOMB + sweep(
        "  kind: grid\n  parameters:\n    cameras.nodes: [*l9]\n")},
     ["sweep", "sw.yaml"], ["sw.yaml", "aliases"]),
    ("non-scalar-grid", {"town.yaml": TOWN, "sw.yaml": sweep(
        "  kind: grid\n  parameters:\n    cameras.nodes: [[1, 2], [3, 4]]\n")},
     ["sweep", "sw.yaml"], ["sw.yaml", "cameras.nodes", "grid values"]),
    ("grid-of-10^10", {"town.yaml": TOWN, "sw.yaml": sweep(grid(5, 100))},
     ["sweep", "sw.yaml"], ["sw.yaml", "10,000,000,000 points", "--max-runs"]),
    ("points-x-replicates", {"town.yaml": TOWN, "sw.yaml": sweep(grid(2, 10),
                                                                   "replicates: 100000\n")},
     ["sweep", "sw.yaml"], ["sw.yaml", "100 points x 100,000 replicates"]),
    ("sobol-524288", {"town.yaml": TOWN, "sw.yaml": sweep(
        "  kind: sobol\n  samples: 524288\n  parameters:\n"
        "    cameras.count: {min: 0, max: 50, type: int}\n"
        "    police.units: {min: 1, max: 9, type: int}\n")},
     ["sweep", "sw.yaml"], ["sw.yaml", "3,145,728 points", "above the limit"]),
    ("over-max-runs", {"town.yaml": TOWN, "sw.yaml": sweep(grid(1, 10), "replicates: 3\n")},
     ["sweep", "sw.yaml", "--max-runs", "20"], ["sw.yaml", "30 runs", "limit of 20"]),
    ("cameras-beyond-city", {"town.yaml": TOWN},
     ["run", "town.yaml", "--set", "city.nodes=99", "--set", "cameras.count=100000"],
     ["town.yaml", "cameras.count", "per place"]),
    # --- messages name the file and the key ----------------------------------------------
    ("camera-place-not-in-city", {"town.yaml": TOWN},
     ["run", "town.yaml", "--set", "cameras.nodes=[1,999999]"],
     ["town.yaml", "cameras.nodes: 999999 is not a place in this city"]),
    ("evaluate-camera-place", {"town.yaml": TOWN},
     ["evaluate", "town.yaml", "--replicates", "1", "--set", "cameras.nodes=[999999]",
      "--set", "run.days=40", "--set", "cameras.install_day=5"],
     ["town.yaml", "cameras.nodes: 999999"]),
    ("lesson-step-bad-value", {"town.yaml": TOWN, "l.yaml": "title: L\nsummary: S\nsteps:\n"
                               "  - {title: A, scenario: town.yaml, set: {cameras.count: -1},"
                               " text: T, question: Q}\n"},
     ["lesson", "l.yaml"], ["l.yaml", "cameras.count"]),
    # --- options ---------------------------------------------------------------------------
    ("run-out-is-file", {"town.yaml": TOWN, "f": "x"}, ["run", "town.yaml", "--out", "f"],
     ["--out f", "not a folder"]),
    ("run-out-foreign-folder", {"town.yaml": TOWN, "mine/notes.txt": "keep me"},
     ["run", "town.yaml", "--out", "mine"], ["--out mine", "not empty"]),
    ("run-out-under-file", {"town.yaml": TOWN, "f": "x"},
     ["run", "town.yaml", "--out", "f/run"], ["--out f/run", "not a folder"]),
    ("sweep-workers-negative", {"town.yaml": TOWN, "sw.yaml": sweep(grid(1, 2))},
     ["sweep", "sw.yaml", "--workers", "-1"], ["--workers", "at least 1"]),
    ("lesson-workers-negative", {"town.yaml": TOWN, "l.yaml": "title: L\nsummary: S\n"
                                 "steps:\n" + LESSON_STEP},
     ["lesson", "l.yaml", "--workers", "-1"], ["--workers", "at least 1"]),
    ("lesson-pairs-a-file", {"f": "x"}, ["lesson", "why-cameras-failed", "--pairs", "f"],
     ["--pairs f", "not a folder"]),
    ("evaluate-workers-negative", {}, ["evaluate", "teaching-town", "--workers", "-1"],
     ["--workers", "at least 1"]),
    ("validate-workers-negative", {}, ["validate", "--workers", "-1"],
     ["--workers", "at least 1"]),
    ("workers-huge", {}, ["lesson", "why-cameras-failed", "--workers", HUGE],
     ["--workers", "whole number"]),
    ("evaluate-bad-name", {}, ["evaluate", "atlantis"], ["atlantis", "abm scenarios"]),
    ("evaluate-ends-before-go-live", {},
     ["evaluate", "teaching-town", "--replicates", "2", "--set", "run.days=20"],
     ["teaching-town.yaml", "run.days", "at least 150"]),
    # --- lessons ---------------------------------------------------------------------------
    ("lesson-is-list", {"l.yaml": "- a\n- b\n"}, ["lesson", "l.yaml"], ["l.yaml", "list"]),
    ("lesson-is-scalar", {"l.yaml": "42\n"}, ["lesson", "l.yaml"], ["l.yaml", "int"]),
    ("lesson-is-empty", {"l.yaml": ""}, ["lesson", "l.yaml"], ["l.yaml", "empty"]),
    ("lesson-write-under-file", {"town.yaml": TOWN, "f": "x", "l.yaml": SLOW_LESSON},
     ["lesson", "l.yaml", "--write", "f/x.md"], ["--write f/x.md", "not a folder"]),
    ("lesson-write-is-folder", {"town.yaml": TOWN, "d/keep": "x", "l.yaml": SLOW_LESSON},
     ["lesson", "l.yaml", "--write", "d"], ["--write d", "is a folder"]),
    # --- reports ---------------------------------------------------------------------------
    ("report-corrupt-metrics", {"r/metrics.parquet": b"PAR1 not really"},
     ["report", "r"], ["metrics.parquet", "not a readable Parquet"]),
    ("report-metrics-wrong-table", {"r/metrics.parquet": "TABLE:day"},
     ["report", "r"], ["metrics.parquet", "crimes_true", "column missing"]),
    ("report-corrupt-design", {"SWEEP": "", "s/design.parquet": b"garbage"},
     ["report", "s"], ["design.parquet", "not a readable Parquet"]),
    ("report-manifest-parameters-5", {"SWEEP": "", "s/manifest.json": "PARAMS5"},
     ["report", "s"], ["manifest.json", "parameters"]),
    ("report-corrupt-run-file", {"SWEEP": "", "s/runs/p0000-r000.json": "{not json"},
     ["report", "s"], ["p0000-r000.json", "not a readable run file"]),
    ("report-run-file-wrong-shape", {"SWEEP": "", "s/runs/p0001-r000.json": "WRONGRECORD"},
     ["report", "s"], ["p0001-r000.json", "not a readable run file"]),
    ("report-out-is-file", {"SWEEP": "", "f": "x"}, ["report", "s", "--out", "f"],
     ["--out f", "not a folder"]),
    # --- discovery specs ---------------------------------------------------------------
    ("discover-range-reversed", {"town.yaml": TOWN, "d.yaml": DISCOVER.format("[50, 10]")},
     ["discover", "d.yaml"], ["d.yaml", "uncertain", "offenders.count", "below"]),
    ("discover-range-out-of-bounds", {"town.yaml": TOWN,
                                      "d.yaml": DISCOVER.format(f"[10, {LONG}]")},
     ["discover", "d.yaml"], ["d.yaml", "uncertain.offenders.count"]),
    ("discover-too-many-samples", {"town.yaml": TOWN, "d.yaml": DISCOVER.format("[10, 50]")},
     ["discover", "d.yaml", "--samples", "30000"], ["d.yaml", "samples", "above the limit"]),
]


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory) -> Path:
    """A finished two-point sweep, copied into the cases that damage one."""
    root = tmp_path_factory.mktemp("sweep")
    (root / "town.yaml").write_text(TOWN)
    (root / "sw.yaml").write_text(sweep(grid(1, 2)))
    done = abm_cli("sweep", "sw.yaml", "--out", "s", "--workers", "1", "--quiet", cwd=root)
    assert done.returncode == 0, done.stderr
    return root / "s"


def write_case(tmp: Path, files: dict, sweep_folder: Path) -> None:
    import json
    import shutil

    if "SWEEP" in files:
        shutil.copytree(sweep_folder, tmp / "s")
    for name, content in files.items():
        if name == "SWEEP":
            continue
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content == "PARAMS5":
            data = json.loads(path.read_text())
            data["parameters"] = 5
            path.write_text(json.dumps(data))
        elif content == "WRONGRECORD":
            data = json.loads((tmp / "s/runs/p0000-r000.json").read_text())
            data.update(run="p0001-r000", parameters=5)
            path.write_text(json.dumps(data))
        elif content == "TABLE:day":
            pd.DataFrame({"day": [1.0, 2.0]}).to_parquet(path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content.format(tmp=tmp) if "{tmp}" in content else content)


def listing(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_size if p.is_file() else -1
            for p in folder.rglob("*")}


def assert_one_line_exit_2(done: subprocess.CompletedProcess, fragments: list[str]) -> None:
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert len(lines) == 1, done.stderr[-2000:]
    assert len(lines[0]) < 400, lines[0][:500]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("name, files, argv, fragments", CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, sweep_folder, name, files,
                                                            argv, fragments):
    write_case(tmp_path, files, sweep_folder)
    before = listing(tmp_path)
    started = time.monotonic()
    done = abm_cli(*[a.format(tmp=tmp_path) for a in argv], cwd=tmp_path)
    assert_one_line_exit_2(done, fragments)
    assert listing(tmp_path) == before  # no output folder, report, page or temporary file
    if name.startswith("lesson-write"):
        # The target is checked before any step runs (the step would take many minutes).
        assert time.monotonic() - started < 60


def _limit_file_size(limit: int):
    def apply() -> None:  # in the child, before it starts: files beyond `limit` fail (EFBIG)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def abm_on_full_disk(*args: str, cwd: Path, limit: int) -> subprocess.CompletedProcess:
    """`abm` whose files cannot grow beyond ``limit`` bytes, as on a disk that is full."""
    return subprocess.run([sys.executable, "-m", "abm", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600, preexec_fn=_limit_file_size(limit))


def test_run_on_a_full_disk_leaves_no_folder(tmp_path):
    (tmp_path / "town.yaml").write_text(TOWN)
    done = abm_on_full_disk("run", "town.yaml", "--out", "out", cwd=tmp_path, limit=3000)
    assert_one_line_exit_2(done, ["--out out", "cannot write"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["town.yaml"]  # no folder, no temp
    # With room, the same command writes the whole folder.
    done = abm_cli("run", "town.yaml", "--out", "out", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert {"config.yaml", "crimes.parquet", "manifest.json", "metrics.parquet",
            "summary.json"} <= {p.name for p in (tmp_path / "out").iterdir()}


def test_sweep_on_a_full_disk_is_one_line_and_resumes(tmp_path):
    (tmp_path / "town.yaml").write_text(TOWN)
    (tmp_path / "sw.yaml").write_text(sweep(grid(1, 3)))
    done = abm_on_full_disk("sweep", "sw.yaml", "--out", "s", "--workers", "1", cwd=tmp_path,
                            limit=2500)
    assert_one_line_exit_2(done, ["--out s", "cannot write", "run the sweep again"])
    assert not list(tmp_path.rglob("*.tmp"))  # no half-written file
    done = abm_cli("sweep", "sw.yaml", "--out", "s", "--workers", "1", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(pd.read_parquet(tmp_path / "s" / "results.parquet")) == 3


def test_a_rerun_replaces_its_run_folder_whole(tmp_path):
    (tmp_path / "town.yaml").write_text(TOWN)
    for seed in (1, 2):
        done = abm_cli("run", "town.yaml", "--out", "out", "--quiet", "--set",
                       f"run.seed={seed}", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert yaml.safe_load((tmp_path / "out/config.yaml").read_text())["run"]["seed"] == seed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "town.yaml"]


def test_shipped_files_are_within_the_bounds():
    """The bounds refuse nothing the project ships."""
    from abm import catalog
    from abm.experiment.sweepfile import MAX_RUNS, load_sweep

    for path in catalog.listing(catalog.Kind.SWEEP).values():
        assert len(load_sweep(path).runs) <= MAX_RUNS
    assert (ROOT / "abm" / "configs").is_dir()
