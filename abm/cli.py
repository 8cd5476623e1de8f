"""The `abm` command line. Bad input exits with status 2 and one line naming the problem."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from abm.config import ConfigError


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage problem in one line (exit status 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def add_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="scenario YAML file (see configs/)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="SECTION.KEY=VALUE",
                        help="override one setting; repeatable (e.g. --set cameras.count=0)")


def cmd_run(args: argparse.Namespace) -> int:
    from abm import config as cfg
    from abm.outputs import default_out_dir, write_run
    from abm.simulate import simulate

    config = cfg.load(args.config, args.overrides)
    out = Path(args.out) if args.out else default_out_dir(config)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a folder")
    progress = None
    bar = None
    if sys.stderr.isatty() and not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=round(config.run.days, 2), unit="day", delay=2.0, file=sys.stderr,
                   desc=config.run.name)
        progress = lambda day: bar.update(round(day, 2) - bar.n)  # noqa: E731
    try:
        result = simulate(config, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    try:
        write_run(result, out)
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot write ({exc.strerror or exc})") from None
    s = result.summary
    if not args.quiet:
        if result.city and result.city.get("source") == "file":
            from abm.streetfiles import describe

            print(describe(result.city))
        print(f"{out}: {s['crimes_total']} crimes ({s['crimes_reported']} recorded), "
              f"{s['arrests']} arrests, camera uptime "
              f"{'n/a' if s['camera_uptime'] is None else format(s['camera_uptime'], '.2f')}, "
              f"{result.wall_s:.1f} s")
    return 0


def register(sub) -> None:
    register_params(sub)
    run = sub.add_parser("run", help="run one scenario and write its output folder")
    add_config_args(run)
    run.add_argument("--out", help="output folder (default runs/<name>-<config hash>)")
    run.add_argument("--quiet", action="store_true", help="print nothing on success")
    run.set_defaults(handler=cmd_run)


def cmd_params(args: argparse.Namespace) -> int:
    from abm import config as cfg
    from abm.outputs import write_text

    if args.write is None and args.check is None:
        print(cfg.parameter_markdown())
        return 0
    path = Path(args.write or args.check)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    updated = cfg.with_parameter_table(text)
    if args.check is not None:
        if updated != text:
            print(f"{path}: parameter table is out of date; run abm params --write {path}",
                  file=sys.stderr)
            return 1
        return 0
    write_text(path, updated)
    return 0


def register_params(sub) -> None:
    p = sub.add_parser("params", help="print every parameter with unit, default and source")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--write", metavar="FILE", help="update the table inside FILE")
    group.add_argument("--check", metavar="FILE", help="exit 1 if FILE's table is stale")
    p.set_defaults(handler=cmd_params)


# Each module adds its subcommands through a `register(subparsers)` function; heavy imports
# stay inside the handlers so `abm --help` is fast.
COMMAND_MODULES = ("abm.cli", "abm.experiment.cli", "abm.evaluation_report", "abm.validate",
                   "abm.lessons", "abm.bench", "abm.gis", "abm.predictive", "abm.calibrate")


def build_parser() -> Parser:
    parser = Parser(prog="abm", description="Safe City ABM: crime, police and CCTV on streets.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f"abm: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("abm: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a pager or head that closed early
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
