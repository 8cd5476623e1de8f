# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Which camera settings matter? A sweep and its sensitivity indices
#
# A sweep runs one scenario at many design points, each with the same replicate seeds (common
# random numbers), on all cores or a Dask cluster, and collects one table. Here we take the
# shipped Morris screening design `configs/sweeps/camera-sensitivity.yaml` (five camera-system
# settings) and ask which of them move crime and arrests: Morris `mu*` is the mean absolute
# elementary effect of a setting, `sigma` how much that effect depends on the others.
#
# The same steps run a Sobol design (`design.kind: sobol`), whose indices are first-order and
# total shares of the variance of an outcome.

# %% tags=["parameters"]
SWEEP = "../configs/sweeps/camera-sensitivity.yaml"
SAMPLES = None  # Morris trajectories (None: the file's)
REPLICATES = None  # seeds per design point (None: the file's)
SETTINGS: dict = {}  # extra fixed settings for every run, e.g. {"run.days": 30}
WORKERS = None  # processes; None: every core
OUT = "../runs/notebooks/sweep-sensitivity"

# %% [markdown]
# The sweep file, with this notebook's changes written beside the results so the folder says
# exactly what ran.

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import yaml

source = Path(SWEEP).resolve()
spec = yaml.safe_load(source.read_text())
spec["base"] = str((source.parent / spec["base"]).resolve())
spec["set"] = {**spec.get("set", {}), **SETTINGS}
if SAMPLES is not None:
    spec["design"]["samples"] = SAMPLES
if REPLICATES is not None:
    spec["replicates"] = REPLICATES
out = Path(OUT)
out.mkdir(parents=True, exist_ok=True)
sweep_file = out.parent / f"{out.name}.sweep.yaml"
sweep_file.write_text(yaml.safe_dump(spec, sort_keys=False))
print(yaml.safe_dump(spec, sort_keys=False))

# %% [markdown]
# ## Run it
#
# Every point and value is validated before any run starts. Finished runs are kept: running
# this cell again, or after an interruption, only runs what is missing.

# %%
from abm.experiment.backends import backend
from abm.experiment.runner import run_sweep
from abm.experiment.sweepfile import load_sweep

sweep = load_sweep(sweep_file)
with backend("local", WORKERS, None) as workers:
    outcome = run_sweep(sweep, out, workers)
print(f"{outcome.total} runs ({outcome.failed} failed) in {outcome.wall_s:.0f} s")

# %% [markdown]
# One row per run: the design point's settings, its replicate and seed, and every figure of
# the run's summary.

# %%
results = pd.read_parquet(out / "results.parquet")
results[[*sweep.keys, "replicate", "crimes_total", "crimes_reported", "arrests"]].head()

# %% [markdown]
# ## Sensitivity indices
#
# `abm.experiment.report.report` (what `abm report` runs) computes them with SALib from the
# replicate means of each design point and writes tables and charts into `report/`.

# %%
from abm.experiment.report import report

folder = report(out, echo=lambda *args: None)
indices = pd.read_parquet(folder / "sensitivity.parquet")
indices.round(3)

# %%
metrics = list(dict.fromkeys(indices["metric"]))
fig, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 3.5), squeeze=False,
                         layout="constrained")
for ax, metric in zip(axes[0], metrics, strict=True):
    rows = indices[indices["metric"] == metric].sort_values("mu_star")
    ax.barh(rows["parameter"].str.removeprefix("cameras."), rows["mu_star"],
            xerr=rows["mu_star_conf"], capsize=3)
    ax.set_title(metric, fontsize=10)
    ax.set_xlabel("mu*")
    ax.grid(alpha=0.3, axis="x")
fig.suptitle("Morris screening: mean absolute elementary effect (95% bootstrap interval)")
plt.show()
