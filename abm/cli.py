"""The `abm` command line. Bad input exits with status 2 and one line naming the file and key.

Heavy imports stay inside the handlers (and ``main``), so `abm --help` is fast and a Ctrl-C
while the program starts is an ordinary interruption, not a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

EXIT_FAILED = 1  # some runs failed, or a worker process died
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage problem in one line (exit status 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _number(text: str, kind: type):
    from abm.config import shown

    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {what}, got {shown(text)}") from None


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite number above 0."""
    value = _number(text, float)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def add_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="scenario file, or a shipped scenario's name "
                        "(islamabad, teaching-town, ...; `abm scenarios` lists them)")
    add_set_arg(parser)


def add_set_arg(parser: argparse.ArgumentParser) -> None:
    """--set SECTION.KEY=VALUE, repeatable: the command line's way to change a setting."""
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="SECTION.KEY=VALUE",
                        help="override one setting; repeatable (e.g. --set cameras.count=0)")


def add_backend_args(parser: argparse.ArgumentParser) -> None:
    """--workers, --backend and --scheduler: where a command's runs go (see ``backend_of``)."""
    parser.add_argument("--workers", type=positive_int, default=None,
                        help="parallel runs (default: the number of cores)")
    parser.add_argument("--backend", choices=("local", "dask"), default="local",
                        help="local processes (default) or a Dask cluster")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="Dask scheduler, e.g. tls://host:8786 (default: start a local "
                        "cluster)")


def backend_of(args: argparse.Namespace):
    """The backend the options of ``add_backend_args`` name (enter it before use)."""
    from abm.experiment.backends import backend

    return backend(args.backend, args.workers, args.scheduler)


def load_config(arg: str, overrides: list[str]):
    """The validated settings of a scenario file or a shipped scenario named on the command
    line."""
    from abm import catalog
    from abm import config as cfg

    path = catalog.resolve(arg, catalog.Kind.SCENARIO)
    return path, cfg.load(path, overrides)


@contextmanager
def naming(path: Path):
    """Errors found while a scenario runs (a camera place not in the city, say) name its
    file, as errors found while reading it do."""
    from abm.config import ConfigError

    try:
        yield
    except ConfigError as exc:
        if str(path) in str(exc):
            raise
        raise ConfigError(f"{path}: {exc}") from None


def cmd_run(args: argparse.Namespace) -> int:
    path, config = load_config(args.config, args.overrides)  # bad input fails before imports

    from abm.config import ConfigError
    from abm.experiment.progress import Progress
    from abm.limits import warn_if_long
    from abm.outputs import check_folder, default_out_dir, write_run
    from abm.simulate import simulate

    out = check_folder(Path(args.out) if args.out else default_out_dir(config), "run")
    warn_if_long([config])
    with Progress(round(config.run.days, 2), config.run.name, unit="day", delay=2.0,
                  shown=sys.stderr.isatty() and not args.quiet) as bar, naming(path):
        result = simulate(config, progress=lambda day: bar.reach(round(day, 2)))
    try:
        write_run(result, out)
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot write ({exc.strerror or exc})") from None
    s = result.summary
    if not args.quiet:
        if result.city and result.city.get("source") == "file":
            from abm.streetfiles import describe

            print(describe(result.city))
        print(f"{out}: {s['crimes_total']} crimes ({s['crimes_recorded']} recorded), "
              f"{s['arrests']} arrests, camera uptime "
              f"{'n/a' if s['camera_uptime'] is None else format(s['camera_uptime'], '.2f')}, "
              f"{result.wall_s:.1f} s")
    return 0


def cmd_scenarios(args: argparse.Namespace) -> int:
    import shutil

    from abm import catalog

    print(catalog.catalogue(width=max(60, shutil.get_terminal_size().columns)))
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from abm import catalog

    made = catalog.init(Path(args.folder))
    for folder in made:
        print(f"wrote {folder}")
    print(f"edit them and run one, e.g. abm run {made[0] / 'scenarios' / 'islamabad.yaml'}; "
          f"ABM_CONFIG_DIR={made[0]} make run shows them in the app")
    return 0


def register(sub) -> None:
    register_params(sub)
    run = sub.add_parser("run", help="run one scenario and write its output folder")
    add_config_args(run)
    run.add_argument("--out", help="output folder (default runs/<name>-<config hash>)")
    run.add_argument("--quiet", action="store_true", help="print nothing on success")
    run.set_defaults(handler=cmd_run)
    listing = sub.add_parser("scenarios", help="list the shipped scenarios, sweeps and lessons")
    listing.set_defaults(handler=cmd_scenarios)
    init = sub.add_parser("init", help="copy the shipped scenarios, sweeps and lessons into a "
                          "folder to edit")
    init.add_argument("folder", help="where to put configs/ and data/ (created if missing)")
    init.set_defaults(handler=cmd_init)


def cmd_params(args: argparse.Namespace) -> int:
    from abm import config as cfg
    from abm.config import ConfigError
    from abm.outputs import write_text

    if args.write is None and args.check is None:
        print(cfg.parameter_markdown())
        return 0
    path = Path(args.write or args.check)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") \
            from None
    updated = cfg.with_parameter_table(text)
    if args.check is not None:
        if updated != text:
            print(f"{path}: parameter table is out of date; run abm params --write {path}",
                  file=sys.stderr)
            return 1
        return 0
    try:
        write_text(path, updated)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return 0


def register_params(sub) -> None:
    p = sub.add_parser("params", help="print every parameter with unit, default and source")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--write", metavar="FILE", help="update the table inside FILE")
    group.add_argument("--check", metavar="FILE", help="exit 1 if FILE's table is stale")
    p.set_defaults(handler=cmd_params)


# Each module adds its subcommands through a `register(subparsers)` function; heavy imports
# stay inside the handlers so `abm --help` is fast. Modules are imported in this order only
# until the command asked for is registered (see build_parser): keep the heavy ones last.
COMMAND_MODULES = ("abm.cli", "abm.experiment.cli", "abm.lessons", "abm.bench", "abm.gis",
                   "abm.predictive", "abm.calibrate", "abm.evaluation_report", "abm.validate",
                   "abm.discover")


def build_parser(argv: list[str] | None = None) -> Parser:
    """The parser; given the arguments, only the modules up to the one that registers the
    command named in them are imported (all of them for `abm --help` or an unknown command)."""
    parser = Parser(prog="abm", description="Safe City ABM: crime, police and CCTV on streets.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    wanted = argv[0] if argv and not argv[0].startswith("-") else None
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
        if wanted is not None and wanted in sub.choices:
            break
    return parser


def _run(argv: list[str] | None) -> int:
    from abm.config import ConfigError
    from abm.experiment.backends import WorkerLostError, stop_workers

    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f"abm: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except WorkerLostError as exc:  # finished runs are kept
        print(f"abm: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # output piped into a pager or head that closed early
        sys.stderr.close()
        return 0
    finally:
        stop_workers()


class CtrlC:
    """Whether Ctrl-C was pressed while the program ran. A library's compiled code may catch
    the KeyboardInterrupt and raise an error of its own in its place (pydantic-core does,
    building a validator while the program imports): that error is the interruption too."""

    pressed = False

    @classmethod
    def note(cls, signum, frame) -> None:
        cls.pressed = True
        raise KeyboardInterrupt


def _interrupted() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while we say so
    print("abm: interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


def main(argv: list[str] | None = None) -> int:
    try:
        return _run(argv)
    except KeyboardInterrupt:
        return _interrupted()
    except Exception:
        if not CtrlC.pressed:
            raise
        return _interrupted()


def command() -> int:
    """The `abm` program: ``main``, after which Ctrl-C is ignored. The command's work is done
    by then, whole or interrupted; while the interpreter shuts down, Python no longer turns
    Ctrl-C into KeyboardInterrupt, and the program would end killed, without a word."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # (not if ignored)
        signal.signal(signal.SIGINT, CtrlC.note)
    code = main()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return code


if __name__ == "__main__":
    raise SystemExit(command())
