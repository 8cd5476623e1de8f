"""`abm evaluate`: write an evaluation's tables, plots and a report a journalist could quote."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from abm.config import ConfigError
from abm.evaluate import TWINS, Evaluation, evaluate, periods
from abm.outputs import (
    atomic_write,
    check_folder,
    manifest,
    whole_folder,
    write_json,
    write_parquet,
    write_text,
)
from abm.units import DAYS_PER_YEAR


def _fmt(x: float, unit: str = "%") -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:+.1f}{unit}" if unit == "%" else f"{x:,.0f}{unit}"


def _interval(row) -> str:
    if not math.isfinite(row["ci_low"]):
        return "(one replicate: no interval)"
    return f"(95% interval {row['ci_low']:+.1f}% to {row['ci_high']:+.1f}%)"


def report_text(ev: Evaluation, replicates: int) -> str:
    """Plain sentences with the figures that matter, each with its uncertainty."""
    cfg = ev.config
    name = cfg.run.name or "scenario"
    lines = [f"# {name}: what did the cameras do?", ""]
    lines.append(
        f"{cfg.cameras.count} cameras went live on day {cfg.cameras.install_day:g} of a "
        f"{cfg.run.days:g}-day run; {replicates} replicate(s), each run beside twin(s) with the "
        "same seed, city and offenders: " + ", ".join(
            t for t in TWINS if t in set(ev.effects.get("twin", []))) + ".")
    lines.append("")
    if len(ev.naive):
        first = ev.naive[(ev.naive["measure"] == "recorded")].iloc[0]
        lines.append(
            f"Before/after, as a vendor would report it: recorded crime changed by "
            f"{_fmt(first['change_pct'])} from the year before go-live to {first['period']} "
            f"{_interval(first)}.")
        last = ev.naive[(ev.naive["measure"] == "recorded")].iloc[-1]
        if last["period"] != first["period"]:
            lines.append(f"By {last['period']} the before/after change in recorded crime was "
                         f"{_fmt(last['change_pct'])} {_interval(last)}.")
    eff = ev.effects[(ev.effects["twin"] == "no-cameras")
                     & (ev.effects["period"] != "before")]
    if len(eff):
        lines.append("")
        lines.append("The cameras' causal effect (scenario against the same city without "
                     "cameras, paired by seed):")
        for _, row in eff.iterrows():
            lines.append(f"- {row['period']}, {row['measure']} crime: "
                         f"{_fmt(row['change_pct'])} {_interval(row)}")
    hours = ev.hours[(ev.hours["twin"] == "no-cameras") & (ev.hours["period"] != "before")] \
        if len(ev.hours) else ev.hours
    if len(hours):
        last = hours[hours["period"] == hours["period"].iloc[-1]]
        lines.append("")
        lines.append(f"By time of day ({last['period'].iloc[0]}, true crime): " + "; ".join(
            f"{row['time_of_day']} {_fmt(row['change_pct'])} {_interval(row)}"
            for _, row in last.iterrows()) + ".")
    work = ev.effects[(ev.effects["twin"] == "working") & (ev.effects["period"] != "before")
                      & (ev.effects["measure"] == "true")]
    if len(work):
        row = work.iloc[-1]
        change = _pct_back(row["change_pct"])  # working twin against this scenario
        if math.isfinite(change):
            lines.append("")
            lines.append(f"Had the same cameras always worked and been watched, true crime in "
                         f"{row['period']} would have been {abs(change):.1f}% "
                         f"{'lower' if change < 0 else 'higher'} than in this scenario.")
    if len(ev.did):
        rec = ev.did[ev.did["measure"] == "recorded"]
        lines.append("")
        lines.append("Difference-in-differences on recorded crime (camera areas against "
                     "unwatched areas, the year before against each year after):")
        for _, row in rec.iterrows():
            gap = row.get("gap_points", math.nan)
            lines.append(f"- {row['period']}: {_fmt(row['did_pct'])} {_interval(row)}; the "
                         f"causal effect in camera areas was "
                         f"{_fmt(row.get('causal_coverage_pct', math.nan))}, so the estimate "
                         f"is off by {_fmt(gap, ' points')}.")
    zones = ev.zones[(ev.zones["twin"] == "no-cameras") & (ev.zones["period"] != "before")]
    if len(zones):
        lines.append("")
        lines.append("Where crime went (true crime, against the no-camera twin, all years after "
                     "go-live averaged):")
        for zone, sub in zones.groupby("zone", sort=False):
            lines.append(f"- {zone}: {_fmt(sub['change_pct'].mean())}")
        buffer = zones[zones["zone"] == "buffer"]["change_pct"].mean()
        verdict = ("crime displaced into the surrounding streets" if buffer > 2 else
                   "benefits diffused to the surrounding streets" if buffer < -2 else
                   "little change around the cameras")
        lines.append(f"In the buffer around coverage: {verdict}.")
    if len(ev.costs):
        lines.append("")
        for _, row in ev.costs.iterrows():
            who = "This scenario" if row["variant"] == "scenario" else "Working, watched cameras"
            if row["reduction_detectable"]:
                lines.append(
                    f"{who}: about {row['crimes_prevented']:,.0f} crimes prevented after go-live "
                    f"for USD {row['extra_cost_usd']:,.0f} extra: USD "
                    f"{row['cost_per_crime_prevented_usd']:,.0f} per crime prevented.")
            else:
                lines.append(
                    f"{who}: no detectable reduction in crime after go-live for USD "
                    f"{row['extra_cost_usd']:,.0f} extra (crimes prevented: mean "
                    f"{row['crimes_prevented']:,.0f}, 95% interval "
                    f"{row['prevented_ci_low']:,.0f} to {row['prevented_ci_high']:,.0f}, "
                    "which includes zero or less).")
    if ev.decomposition is not None:
        from abm.decompose import describe

        lines.append("")
        lines.append("## Where the change came from")
        lines.append("")
        lines.append("Each mechanism's contribution is the change with everything minus the "
                     "change with that mechanism switched off (same seeds); what the "
                     "contributions do not add up to is the interaction of mechanisms acting "
                     "together.")
        lines += describe(ev.decomposition, ev.mechanisms or [])
    lines.append("")
    lines.append("All figures are model results for a scenario whose inputs are documented in "
                 "its config file; they show mechanisms and orders of magnitude, not forecasts.")
    return "\n".join(lines) + "\n"


def _pct_back(change_pct: float) -> float:
    """Turn 'scenario vs twin' into 'twin vs scenario' (both in percent)."""
    return (1.0 / (1.0 + change_pct / 100.0) - 1.0) * 100.0 if change_pct > -100 else math.nan


def plot(ev: Evaluation, out: Path) -> list[Path]:
    """Crime by period for scenario and twins; naive against causal estimates; zones."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from abm.experiment.report import counts_axis

    written = []
    order = [p.label for p in periods(ev.config)]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharex=True)
    for ax, measure in zip(axes, ("true", "recorded"), strict=True):
        rates = ev.counts.assign(rate=ev.counts[measure] / ev.counts["period_days"] * DAYS_PER_YEAR)
        for variant, sub in rates.groupby("variant"):
            g = sub.groupby("period")["rate"].agg(["mean", "std"]).reindex(order)
            ax.errorbar(range(len(order)), g["mean"], yerr=g["std"].fillna(0), marker="o",
                        capsize=3, label=variant)
        ax.set_xticks(range(len(order)), order)
        ax.set_title(f"{measure.capitalize()} crime per year")
        ax.set_xlabel("period (relative to the cameras going live)")
        ax.set_ylabel("crimes per year (count)")
        counts_axis(ax)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle(f"{ev.config.run.name}: scenario against its twins (mean, 1 s.d.)")
    fig.tight_layout()
    written.append(_save(fig, out / "crime_by_period.png"))
    plt.close(fig)

    bars = []
    for _, r in ev.naive[ev.naive["measure"] == "recorded"].iterrows():
        bars.append((f"before/after\n{r['period']}", r["change_pct"], r["ci_low"], r["ci_high"]))
    for _, r in ev.did[ev.did["measure"] == "recorded"].iterrows():
        bars.append((f"DiD\n{r['period']}", r["did_pct"], r["ci_low"], r["ci_high"]))
    eff = ev.effects[(ev.effects["twin"] == "no-cameras") & (ev.effects["measure"] == "true")
                     & (ev.effects["period"] != "before")]
    for _, r in eff.iterrows():
        bars.append((f"causal\n{r['period']}", r["change_pct"], r["ci_low"], r["ci_high"]))
    if bars:
        fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(bars)), 4))
        labels, means, lows, highs = zip(*bars, strict=True)
        colours = ["tab:red" if lab.startswith("before") else "tab:orange" if lab.startswith(
            "DiD") else "tab:blue" for lab in labels]
        err = [[max(0, m - lo) if math.isfinite(lo) else 0 for m, lo in zip(means, lows,
                                                                            strict=True)],
               [max(0, hi - m) if math.isfinite(hi) else 0 for m, hi in zip(means, highs,
                                                                            strict=True)]]
        ax.bar(range(len(bars)), means, color=colours, yerr=err, capsize=3)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(range(len(bars)), labels, fontsize=8)
        ax.set_xlabel("method and period")
        ax.set_ylabel("change in crime (%)")
        ax.set_title(f"{ev.config.run.name}: what each method says the cameras did "
                     "(95% intervals)")
        fig.tight_layout()
        written.append(_save(fig, out / "naive_vs_causal.png"))
        plt.close(fig)

    zones = ev.zones[(ev.zones["twin"] == "no-cameras") & (ev.zones["period"] != "before")]
    if len(zones):
        fig, ax = plt.subplots(figsize=(7, 4))
        names = list(dict.fromkeys(zones["zone"]))
        periods_after = list(dict.fromkeys(zones["period"]))
        width = 0.8 / len(periods_after)
        for i, period in enumerate(periods_after):
            sub = zones[zones["period"] == period].set_index("zone").reindex(names)
            ax.bar([j + i * width for j in range(len(names))], sub["change_pct"], width,
                   label=period)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(names))], names)
        ax.set_xlabel("zone (where the cameras are)")
        ax.set_ylabel("true crime vs no-camera twin (%)")
        ax.set_title(f"{ev.config.run.name}: inside coverage, in the buffer, elsewhere")
        ax.legend(fontsize=8)
        fig.tight_layout()
        written.append(_save(fig, out / "zones.png"))
        plt.close(fig)
    return written


def _save(fig, path: Path) -> Path:
    return atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))


def write_evaluation(ev: Evaluation, out: Path, replicates: int, wall_s: float) -> str:
    """Write the evaluation folder whole (under a temporary name, renamed at the end)."""
    with whole_folder(out, "evaluation") as tmp:
        write_text(tmp / "config.yaml", ev.config.to_yaml())
        for name in ("counts", "summaries", "effects", "naive", "did", "zones", "costs",
                     "hours", "decomposition"):
            if getattr(ev, name) is not None:
                write_parquet(tmp / f"{name}.parquet", getattr(ev, name))
        plot(ev, tmp)
        text = report_text(ev, replicates)
        write_text(tmp / "report.md", text)
        info = {"kind": "evaluation", **manifest(ev.config, wall_s)}
        info["replicates"] = replicates
        write_json(tmp / "manifest.json", info)
    return text


def cmd_evaluate(args: argparse.Namespace) -> int:
    import time

    from abm.cli import backend_of, load_config, naming
    from abm.limits import warn_if_long

    path, config = load_config(args.scenario, args.overrides)
    install, days = config.cameras.install_day, config.run.days
    if install <= 0 or not [p for p in periods(config) if p.label != "before"]:
        # The comparisons need time before go-live and at least 30 days after it.
        raise ConfigError(f"{path}: run.days: {days:g} days do not cover a stretch before the "
                          f"cameras go live (cameras.install_day {install:g}) and 30 days "
                          f"after; an evaluation needs cameras.install_day above 0 and "
                          f"run.days of at least {max(install, 0) + 30:g}")
    twins = tuple(t.strip() for t in args.twins.split(",") if t.strip())
    for t in twins:
        if t not in TWINS:
            raise ConfigError(f"--twins {t}: unknown twin; choose from {', '.join(TWINS)}")
    if "no-cameras" not in twins:
        twins = ("no-cameras", *twins)
    if args.replicates < 1:
        raise ConfigError(f"--replicates {args.replicates}: must be at least 1")
    engine = backend_of(args)
    out = (Path(args.out) if args.out
           else Path("runs") / f"evaluate-{config.run.name}-{config.hash()}")
    check_folder(out, "evaluation")
    warn_if_long([config] * args.replicates * (1 + len(twins)), args.workers or 1,
                 "this evaluation")
    started = time.perf_counter()
    with engine, naming(path):
        ev = evaluate(config, args.replicates, twins, progress=sys.stderr.isatty(),
                      decompose=args.decompose, decompose_to=args.decompose_to,
                      backend=engine, fork=not args.no_fork)
    try:
        text = write_evaluation(ev, out, args.replicates, time.perf_counter() - started)
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot write ({exc.strerror or exc})") from None
    print(text)
    print(f"tables, plots and report in {out}")
    return 0


def register(sub) -> None:
    from abm.cli import add_backend_args, add_set_arg

    p = sub.add_parser("evaluate", help="causal effect of a camera scenario against its twins")
    p.add_argument("scenario", help="scenario file, or a shipped scenario's name (islamabad, "
                   "nairobi, mombasa, teaching-town; `abm scenarios` lists them)")
    add_set_arg(p)
    p.add_argument("--replicates", type=int, default=5, help="replicate seeds (default 5)")
    p.add_argument("--twins", default=",".join(TWINS),
                   help="twins to run: no-cameras (always), working (default: both)")
    add_backend_args(p)
    p.add_argument("--out", help="output folder (default runs/evaluate-<name>-<hash>)")
    p.add_argument("--decompose", action="store_true",
                   help="also attribute the change in crime to each mechanism (trend, camera "
                   "failures, learning, monitoring, staffing, recording), one switched off at "
                   "a time")
    p.add_argument("--decompose-to", metavar="PERIOD", default=None,
                   help="the period the decomposition compares with the year before go-live "
                   "(default: year 3)")
    p.add_argument("--no-fork", action="store_true",
                   help="run every twin and variant from day 0 instead of forking them from "
                   "the scenario's run at go-live (the same results, slower)")
    p.set_defaults(handler=cmd_evaluate)
