"""The info panel: what the model is, its main assumptions, and what this scenario rests on.

The scenario's sources are its file's own leading comments (where each scenario states its
facts and assumptions); what is synthetic is read from its settings (generated streets, people
and places generated on real streets). The model description and the scenario notes open in
the page from docs/ODD.md and docs/scenarios.md.
"""

from __future__ import annotations

from pathlib import Path

import solara

from abm.config import Config

DOCS = Path(__file__).resolve().parent.parent.parent / "docs"
DOC_FILES = {"ODD.md": "Model description (ODD protocol)", "scenarios.md": "Scenario notes"}
# Most of a document shown in the page (the files are small; this bounds a surprise).
DOC_CHARS = 400_000

MODEL = (
    "Safe City ABM is an agent-based model of crime, policing and city-wide CCTV. Offenders "
    "go about routine activities on a street network and commit crimes where a target meets "
    "no capable guardian; police units patrol and answer calls; cameras fail and get repaired "
    "(or not), and operators watch some of their feeds. Each run records true crime and the "
    "crime the police hear of, arrests, response times and costs.")

ASSUMPTIONS = (
    "Offenders are deterred by the camera risk they perceive, which they learn from what "
    "cameras actually cause (arrests from live detection or footage); they cannot see which "
    "camera works or is watched.",
    "Camera uptime is an outcome of failures, cable cuts, blocked views and repairs, not an "
    "input.",
    "An operator watches a few feeds, and notices less the more feeds they watch (UK Home "
    "Office test).",
    "Not every crime is reported; the chance of an arrest on the scene falls as the response "
    "takes longer.",
    "Crime is measured inside camera coverage, in a buffer around it and elsewhere, to see "
    "displacement and diffusion of benefits.",
    "Counts depend on assumed offending rates and city size: compare runs, and quote "
    "differences over several seeds with their intervals, not single runs.",
)


def scenario_notes(path: Path | None) -> str:
    """A scenario file's leading comment block: the facts and assumptions it states."""
    if path is None or not path.is_file():
        return ""
    lines = []
    try:
        text = path.read_text(encoding="utf-8")[:20_000]
    except (OSError, UnicodeDecodeError):
        return ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        lines.append(stripped.lstrip("#").strip())
    return " ".join(lines).strip()


def synthetic(config: Config) -> list[str]:
    """What in this scenario is made up rather than taken from data."""
    city = config.city
    out = []
    if city.source == "generator":
        out.append(f"The streets are synthetic: a generated {city.generator} layout of about "
                   f"{city.nodes:,} intersections, not the real city's streets.")
    else:
        out.append(f"The streets come from a street network file ({Path(city.file).name}); "
                   "land use, attractiveness and activity places are generated on them.")
    out.append(f"The {config.offenders.count:,} offenders, their homes and their routines are "
               "generated, as are the crimes: no real crime record is replayed.")
    return out


def doc_text(name: str) -> str:
    if name not in DOC_FILES:
        return ""
    path = DOCS / name
    try:
        return path.read_text(encoding="utf-8")[:DOC_CHARS]
    except OSError:
        return (f"docs/{name} is not installed here: it is in the project's source, under "
                "docs/.")


@solara.component
def InfoPanel(config: Config, scenario_path: Path | None, label: str | None) -> None:
    """The model, its assumptions, the scenario's sources and what is synthetic; the docs."""
    shown, set_shown = solara.use_state("")
    with solara.Column(gap="6px", classes=["abm-info"]):
        solara.Text("About this model", style={"font-weight": "bold", "font-size": "1.1em"})
        solara.Text(MODEL)
        solara.Text("Main assumptions", style={"font-weight": "bold"})
        solara.HTML(tag="ul", unsafe_innerHTML="".join(
            f"<li>{a}</li>" for a in ASSUMPTIONS), classes=["abm-assumptions"])
        solara.Text(f"This scenario: {label or config.run.name or 'settings from the panel'}",
                    style={"font-weight": "bold"})
        notes = scenario_notes(scenario_path)
        solara.Text(notes or "Its file states no sources: treat every setting as an "
                    "assumption.", classes=["abm-info-sources"])
        for line in synthetic(config):
            solara.Text(line, classes=["abm-info-synthetic"])
        with solara.Row(style={"flex-wrap": "wrap"}):
            for name, title in DOC_FILES.items():
                solara.Button(f"docs/{name}", icon_name="mdi-file-document-outline",
                              small=True, outlined=True, classes=[f"abm-doc-{name[:-3]}"],
                              attributes={"title": title},
                              on_click=lambda name=name: set_shown("" if shown == name
                                                                   else name))
        if shown:
            with solara.Card(f"docs/{shown}", margin=0, classes=["abm-doc"]):
                solara.Markdown(doc_text(shown))
