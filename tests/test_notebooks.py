"""The notebooks run, top to bottom, on small settings: a notebook that rots fails here.

Each notebook is a jupytext percent script with a cell tagged ``parameters``; as papermill does,
the test puts a cell with small settings right after it and executes the notebook in a fresh
kernel with nbclient, from the notebooks folder as Jupyter would.
"""

import json
import re

import jupytext
import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"
# A small town over a few days: what every notebook is run on here.
TOWN = ["city.nodes=300", "offenders.count=60", "police.units=3", "city.destinations=40"]
PARAMETERS = {
    "01-quick-start.py": {"SETTINGS": ["run.days=40", "cameras.install_day=10", *TOWN]},
    # Go-live moved to day 60 of 100: a before period and one part year of 40 days after it.
    "02-twin-evaluation.py": {"SETTINGS": ["run.days=100", "cameras.install_day=60",
                                           "cameras.count=40", *TOWN],
                              "REPLICATES": 2, "WORKERS": 1},
    "03-sweep-sensitivity.py": {"SETTINGS": {"run.days": 4, "city.nodes": 300,
                                             "offenders.count": 60, "police.units": 3},
                                "SAMPLES": 2, "REPLICATES": 1, "WORKERS": 1},
    "04-live-model.py": {"STEP": "1 week", "FRAMES": 19},  # to day 133, past go-live
}


def execute(name: str, out, **extra) -> nbformat.NotebookNode:
    notebook = jupytext.read(NOTEBOOKS / name)
    cells = notebook.cells
    where = [i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(where) == 1, f"{name}: needs exactly one cell tagged parameters"
    values = {**PARAMETERS[name], **extra}
    if out is not None:
        values["OUT"] = str(out)
    source = "\n".join(f"{key} = {value!r}" for key, value in values.items())
    cells.insert(where[0] + 1, nbformat.v4.new_code_cell(
        source, metadata={"tags": ["injected-parameters"]}))
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return notebook


def text_of(notebook: nbformat.NotebookNode) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_every_notebook_is_a_percent_script_tested_here():
    found = sorted(p.name for p in NOTEBOOKS.glob("*.py"))
    assert found == sorted(PARAMETERS)
    assert not list(NOTEBOOKS.glob("*.ipynb"))  # kept as scripts, without outputs
    for name in found:
        assert "format_name: percent" in (NOTEBOOKS / name).read_text()


def test_quick_start(tmp_path):
    out = tmp_path / "run"
    notebook = execute("01-quick-start.py", out)
    summary = json.loads((out / "summary.json").read_text())
    crimes = pd.read_parquet(out / "crimes.parquet")
    assert summary["crimes_total"] == len(crimes) > 0
    assert (out / "layers.gpkg").is_file() and (out / "cameras.parquet").is_file()
    images = [o for c in notebook.cells for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert len(images) == 2  # daily crime, and the map


def test_twin_evaluation(tmp_path):
    notebook = execute("02-twin-evaluation.py", tmp_path)
    assert "6 runs" in text_of(notebook)  # the scenario and two twins, two replicates
    effects = pd.read_parquet(tmp_path / "effects.parquet")
    assert set(effects["twin"]) == {"no-cameras", "working"}
    assert set(effects["period"]) == {"before", "year 1"}
    after = effects[effects["period"] == "year 1"]
    assert after[["change_pct", "ci_low", "ci_high"]].notna().all().all()
    assert "causal" in (tmp_path / "report.md").read_text().lower()


def test_sweep_sensitivity(tmp_path):
    out = tmp_path / "sweep"
    execute("03-sweep-sensitivity.py", out)
    results = pd.read_parquet(out / "results.parquet")
    assert len(results) == 2 * (5 + 1) and (results["status"] == "ok").all()  # Morris: 2 x 6
    indices = pd.read_parquet(out / "report" / "sensitivity.parquet")
    assert {"mu_star", "sigma"} <= set(indices.columns) and len(indices) > 0
    assert set(indices["parameter"]) <= {"cameras.count", "cameras.mttr_days",
                                         "cameras.operators", "cameras.footage_id_prob",
                                         "cameras.range_m"}


def test_live_model():
    notebook = execute("04-live-model.py", None)
    text = text_of(notebook)
    first, second = re.findall(r"day 133\.00: (\d+) crimes.* (\d+) of 30 cameras up", text), \
        re.findall(r"now 60 cameras; day 133\.00: (\d+) crimes, (\d+) cameras up", text)
    assert first and second, text
    assert int(first[0][0]) > 0 and int(first[0][1]) > 0 and int(second[0][1]) > 30
    widgets = [o for c in notebook.cells for o in c.get("outputs", [])
               if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widgets, "the Solara components did not render as widgets"


def test_a_broken_notebook_fails(tmp_path):
    with pytest.raises(Exception, match="no such file"):
        execute("01-quick-start.py", tmp_path, SCENARIO="missing.yaml")
