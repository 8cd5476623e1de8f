"""`abm sweep` and `abm report`.

Exit status of `abm sweep`: 0 when every run succeeded, 1 when some runs failed (they are
recorded with their error in results.parquet; the others are complete) or a worker process
died, 2 for bad input, 130 when interrupted (finished runs are kept; run the same command again
to go on).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def cmd_sweep(args: argparse.Namespace) -> int:
    from abm.cli import EXIT_FAILED, backend_of
    from abm.config import ConfigError
    from abm.experiment.runner import run_sweep
    from abm.experiment.sweepfile import load_sweep

    engine = backend_of(args)
    sweep = load_sweep(args.sweep, max_runs=args.max_runs)
    out = Path(args.out) if args.out else Path("runs") / sweep.name
    echo = (lambda *a, **k: None) if args.quiet else print
    progress = sys.stderr.isatty() and not args.quiet
    try:
        with engine:
            outcome = run_sweep(sweep, out, engine, resume=args.resume,
                                retry_failed=args.retry_failed, progress=progress, echo=echo)
    except OSError as exc:  # a full disk, say: every finished run is kept
        where = f" {exc.filename}" if exc.filename else ""
        raise ConfigError(f"--out {out}: cannot write{where} ({exc.strerror or exc}); "
                          "finished runs are kept: run the sweep again to go on") from None
    echo(f"{outcome.out}: {outcome.total} runs, {outcome.total - outcome.failed} ok, "
         f"{outcome.failed} failed ({outcome.ran} run now in {outcome.wall_s:.1f} s) -> "
         f"{outcome.out / 'results.parquet'}")
    return EXIT_FAILED if outcome.failed else 0


def cmd_report(args: argparse.Namespace) -> int:
    from abm.experiment.report import report

    report(Path(args.folder), out=Path(args.out) if args.out else None,
           metrics=args.metrics or None, echo=(lambda *a, **k: None) if args.quiet else print)
    return 0


def register(sub) -> None:
    from abm.cli import add_backend_args, positive_int
    from abm.experiment.sweepfile import MAX_RUNS

    sweep = sub.add_parser(
        "sweep", help="run a batch of simulations from a sweep file",
        description="Run every design point x replicate of a sweep file; finished runs are "
        "kept, so the same command resumes a stopped sweep. Exit status 1 if some runs failed.")
    sweep.add_argument("sweep", help="sweep file, or a shipped sweep's name (`abm scenarios` "
                       "lists them)")
    add_backend_args(sweep)
    sweep.add_argument("--max-runs", type=positive_int, default=MAX_RUNS, metavar="N",
                       help=f"refuse a sweep of more runs (points x replicates) than this, "
                       f"before building any (default {MAX_RUNS:,})")
    sweep.add_argument("--out", help="output folder (default runs/<sweep name>)")
    sweep.add_argument("--resume", action="store_true",
                       help="continue the sweep in the output folder (an error if there is "
                       "none); finished runs are skipped")
    sweep.add_argument("--retry-failed", action="store_true",
                       help="run failed runs again instead of keeping their error")
    sweep.add_argument("--quiet", action="store_true", help="print only failures")
    sweep.set_defaults(handler=cmd_sweep)

    rep = sub.add_parser(
        "report", help="tables and charts of a sweep folder or a run folder",
        description="For a sweep folder: mean and 95%% interval per design point, paired "
        "effects against the baseline, sensitivity indices and charts. For a run folder: "
        "its daily charts.")
    rep.add_argument("folder", help="a sweep folder (abm sweep) or a run folder (abm run)")
    rep.add_argument("--out", help="where tables and charts go (default FOLDER/report)")
    rep.add_argument("--metric", dest="metrics", action="append", metavar="NAME",
                     help="summary figure to print and analyse; repeatable (default: crimes, "
                     "recorded crimes, arrests, clearance)")
    rep.add_argument("--quiet", action="store_true", help="write files, print nothing")
    rep.set_defaults(handler=cmd_report)
