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
# # Quick start: run a scenario, read its tables, plot daily crime
#
# One run of the teaching town: a small grid city whose cameras go live after four months and
# are never repaired. We run it from Python, look at the tables every run produces, plot crime
# day by day, write the run folder that `abm run` writes, and export it as map layers.
#
# Open this file in Jupyter with jupytext (`pip install jupytext`), or run it as a script.

# %% tags=["parameters"]
SCENARIO = "teaching-town"  # a shipped scenario (`abm scenarios` lists them) or any file
SETTINGS: list[str] = []  # overrides, as with `abm run --set`, e.g. ["cameras.count=60"]
OUT = "../runs/notebooks/quick-start"  # where the run folder goes

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from abm.catalog import resolve
from abm.config import load
from abm.simulate import simulate

config = load(resolve(SCENARIO), SETTINGS)
print(f"{config.run.name}: {config.run.days:g} days, {config.city.nodes} intersections, "
      f"{config.offenders.count} offenders, {config.police.units} police units, "
      f"{config.cameras.count} cameras live on day {config.cameras.install_day:g}, "
      f"repair {'on' if config.cameras.repair else 'off'}")

# %% [markdown]
# `simulate` builds the model, runs `run.days` simulated days and hands back the run's tables.
# The same config and seed give the same tables in any process.

# %%
result = simulate(config)
pd.Series(result.summary).to_frame("value").head(20)

# %% [markdown]
# **The crime log**: one row per crime, true or recorded. `zone` is 0 inside camera coverage,
# 1 in the buffer around it, 2 elsewhere; `recorded` says whether it entered police records
# (`reported`: whether police heard of it).

# %%
crimes = result.crimes
crimes.head()

# %%
crimes.groupby(["kind", "recorded"]).size().unstack(fill_value=0)

# %% [markdown]
# **The daily series**: one row per simulated day.

# %%
daily = result.metrics
daily[["day", "crimes_true", "crimes_recorded", "arrests", "cameras_up_mean"]].tail()

# %% [markdown]
# ## Daily crime
#
# True crime is what happened; recorded crime is what victims reported or an operator saw, the
# only figure a city publishes. Weekly sums make the curve readable.

# %%
weekly = daily.assign(week=(daily["day"] - 1e-9) // 7).groupby("week")[
    ["crimes_true", "crimes_recorded"]].sum()
fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True, layout="constrained")
top.plot(weekly.index * 7, weekly["crimes_true"], label="true")
top.plot(weekly.index * 7, weekly["crimes_recorded"], label="recorded")
top.set_ylabel("crimes per week")
bottom.plot(daily["day"], daily["cameras_up_mean"], color="tab:green")
bottom.set_ylabel("cameras working")
bottom.set_xlabel("day")
for ax in (top, bottom):
    ax.axvline(config.cameras.install_day, color="0.5", linestyle="--")
    ax.grid(alpha=0.3)
top.legend()
plt.show()

# %% [markdown]
# ## The run folder, and reading it back
#
# `write_run` writes what `abm run` writes: the resolved config, the crime log, the daily
# series, one row per camera, the summary and a provenance manifest, each file whole.

# %%
from abm.outputs import write_run

folder = write_run(result, Path(OUT))
sorted(p.name for p in folder.iterdir())

# %%
cameras = pd.read_parquet(folder / "cameras.parquet")
cameras.sort_values("crimes_in_view", ascending=False).head()

# %% [markdown]
# ## Map layers
#
# `abm export RUN_DIR` (here `abm.gis.export`) writes the run as a GeoPackage a GIS opens
# directly: streets, places with their crimes, cameras with their uptime, every crime. The
# teaching town is synthetic, so its layers are in a local CRS in metres (no place on Earth).

# %%
from abm.gis import export, layers

print(export(folder))
maps = layers(folder)
fig, ax = plt.subplots(figsize=(7, 7))
maps["streets"].plot(ax=ax, color="0.8", linewidth=0.6)
maps["cameras"].plot(ax=ax, column="uptime", cmap="RdYlGn", vmin=0, vmax=1, marker="^",
                     markersize=70, alpha=0.6)
places = maps["places"]
places[places["crimes"] > 0].plot(ax=ax, column="crimes", cmap="Reds", markersize=14,
                                   edgecolor="k", linewidth=0.3, legend=True,
                                   legend_kwds={"label": "crimes at the place", "shrink": 0.7})
ax.set_title("Crimes by place; cameras (triangles) by uptime, green up to red down",
             fontsize=10)
ax.set_axis_off()
plt.show()
