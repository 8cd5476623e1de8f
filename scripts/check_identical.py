"""Check that this source tree gives bit-identical runs to another revision.

Speed work must not change results. This script runs a fixed set of scenarios (the teaching
town, a small city with every failure process on, other patrol strategies and layouts; a few
seeds each) with the code in this tree and with the code of a git revision (default: HEAD), and
compares digests of crimes, daily metrics and summary byte for byte, and of where every
offender and police unit is (``model.positions()``) at the end of each day and at a few
moments within it, as maps see them.

    python scripts/check_identical.py                  # working tree against HEAD
    python scripts/check_identical.py --against main   # against another revision
    python scripts/check_identical.py --quick          # fewer scenarios
    python scripts/check_identical.py --only default-30d-seed7,city-scale-45d

Exit status 0 when every scenario matches, 1 otherwise. Both sides run in fresh processes.
Compare against the revision your change starts from: a revision with different model rules
(or defaults) gives different results for a good reason.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (name, config file relative to the configs folder, overrides)
SMALL_CITY = ["city.nodes=2500", "offenders.count=250", "police.units=25", "cameras.count=500",
              "cameras.groups=15", "police.hotspots=60", "city.destinations=300"]
SCENARIOS = [
    ("default-30d-seed42", "default.yaml", []),
    ("default-30d-seed7", "default.yaml", ["run.seed=7"]),
    ("default-30d-seed2024", "default.yaml", ["run.seed=2024"]),
    ("city-60d-seed1", "default.yaml",
     [*SMALL_CITY, "run.days=60", "run.seed=1", "cameras.obstruction_mtbf_days=200"]),
    ("city-60d-seed2", "default.yaml",
     [*SMALL_CITY, "run.days=60", "run.seed=2", "cameras.repair=false",
      "cameras.mtbf_days=60"]),
    ("beat-organic-seed3", "default.yaml",
     ["run.days=40", "run.seed=3", "city.generator=organic", "police.patrol=beat",
      "police.units=3", "cameras.install_day=10"]),
    ("random-patrol-seed4", "default.yaml",
     ["run.days=40", "run.seed=4", "police.patrol=random", "offenders.count=400",
      "police.units=2", "cameras.operators=10"]),
    ("wide-presence-seed5", "default.yaml",
     ["run.days=30", "run.seed=5", "police.presence_radius_m=900", "police.units=20",
      "city.jitter=0", "police.dwell_min=0"]),
    ("city-scale-45d", "bench/city-scale.yaml", ["run.days=45"]),
    # A calendar: cameras going live after a year, staff moved from patrol on that day (units
    # stand down), no repairs.
    ("islamabad-staff-moved-400d", "scenarios/islamabad-staff-moved.yaml", ["run.days=400"]),
]
DIGESTS = ("crimes", "metrics", "summary", "positions")
QUICK = {"default-30d-seed42", "city-60d-seed1", "beat-organic-seed3"}


def frame_digest(frame) -> str:
    """sha256 over column names, dtypes and the exact bytes of every value."""
    h = hashlib.sha256()
    for name in frame.columns:
        col = frame[name]
        h.update(f"{name}:{col.dtype}:{len(col)}\0".encode())
        if col.dtype.kind in "biuf":
            h.update(col.to_numpy().tobytes())
        else:
            h.update("\0".join(map(str, col.tolist())).encode())
    return h.hexdigest()


def configs_of(root: Path) -> Path:
    """A source tree's configs: inside the package, or at the top in older revisions."""
    inside = root / "abm" / "configs"
    return inside if inside.is_dir() else root / "configs"


def digest(root: Path, names: set[str] | None) -> dict:
    """Run the scenarios with the `abm` package importable here; digests by scenario."""
    import time

    import abm
    from abm.config import load
    from abm.model import MINUTES_PER_DAY, SafeCityModel
    from abm.simulate import finish

    out = {"_abm": str(Path(abm.__file__).resolve().parent)}
    for name, path, overrides in SCENARIOS:
        if names is not None and name not in names:
            continue
        path = configs_of(root) / path
        if not path.exists():  # a scenario newer than the revision
            out[name] = None
            continue
        config = load(path, overrides)
        started = time.perf_counter()
        model = SafeCityModel(config)
        places = hashlib.sha256()
        end = config.run.days * MINUTES_PER_DAY
        while model.time < end:  # as abm.simulate.simulate does, looking at the map
            for step in (0.25, 0.5, 0.25):
                model.run_until(min(end, model.time + step * MINUTES_PER_DAY))
                for key, value in sorted(model.positions().items()):
                    places.update(key.encode() + value.tobytes())
        result = finish(model, started)
        out[name] = {
            "crimes": frame_digest(result.crimes),
            "metrics": frame_digest(result.metrics),
            "positions": places.hexdigest(),
            "summary": hashlib.sha256(json.dumps(result.summary, sort_keys=True).encode())
            .hexdigest(),
            "crimes_total": result.summary["crimes_total"],
            "wall_s": round(result.wall_s, 2),
        }
    return out


def run_side(source: Path, names: set[str] | None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(source)}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--digest", str(source)]
    if names is not None:
        cmd += ["--only", ",".join(sorted(names))]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=source, check=False)
    if done.returncode != 0:
        sys.exit(f"scenario run failed in {source}:\n{done.stderr}")
    result = json.loads(done.stdout)
    if Path(result["_abm"]) != (source / "abm").resolve():
        sys.exit(f"imported abm from {result['_abm']}, expected {source / 'abm'}")
    return result


def export(rev: str, into: Path) -> Path:
    """The abm package and configs of a git revision, unpacked into a folder (configs/ sat
    beside the package in older revisions, and is inside it now)."""
    top = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{rev}:configs"],
                         capture_output=True, check=False).returncode == 0
    archive = into / "src.tar"
    with archive.open("wb") as f:
        subprocess.run(["git", "-C", str(ROOT), "archive", rev, "abm",
                        *(["configs"] if top else [])], stdout=f, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "src", filter="data")
    return into / "src"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="HEAD", help="git revision to compare with")
    parser.add_argument("--quick", action="store_true", help="only a few scenarios")
    parser.add_argument("--only", metavar="NAMES", help="comma-separated scenario names")
    parser.add_argument("--digest", metavar="ROOT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    names = set(args.only.split(",")) if args.only else (QUICK if args.quick else None)
    if args.digest:
        json.dump(digest(Path(args.digest), names), sys.stdout)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        reference = run_side(export(args.against, Path(tmp)), names)
    current = run_side(ROOT, names)
    failed = 0
    for name, ref in reference.items():
        if name.startswith("_"):
            continue
        now = current[name]
        if ref is None:
            print(f"{'skipped':9} {name:24} (not in {args.against})")
            continue
        same = all(ref[k] == now[k] for k in DIGESTS)
        failed += not same
        print(f"{'same' if same else 'DIFFERENT':9} {name:24} crimes {now['crimes_total']:6} "
              f"wall {ref['wall_s']:6.2f} s -> {now['wall_s']:6.2f} s")
        if not same:
            for k in DIGESTS:
                if ref[k] != now[k]:
                    print(f"          {k}: {ref[k][:12]} != {now[k][:12]}")
    print(f"{'all identical' if not failed else f'{failed} scenario(s) differ'} "
          f"(against {args.against})")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
