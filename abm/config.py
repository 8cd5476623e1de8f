"""Validated settings: the schema every scenario file, `--set` override and sweep goes through.

Each field carries its unit, bounds, a one-line description, its source or stated assumption
and whether a timeline may change it during a run (in ``json_schema_extra``), so docs/ODD.md's
parameter table is generated from here and cannot drift from the code.

Inside the program settings stay typed: ``Config.get("cameras.count")`` reads a dotted key and
``Config.changed({"cameras.count": 60})`` makes a validated copy with some changed. Text is read
only at the edges: scenario files and ``--set KEY=VALUE`` on the command line.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import sys
import typing
from collections.abc import Mapping
from datetime import date
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from abm.units import DAYS_PER_YEAR, MINUTES_PER_DAY


class ConfigError(ValueError):
    """A problem with user input; its message is one line naming the file and the key.

    Control characters that came in with the input (a file name holding a line break, say)
    are written as escapes, so the message stays one line whatever it quotes.
    """

    def __init__(self, message: object = "") -> None:
        text = str(message)
        if not text.isprintable():
            text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
        super().__init__(text)


# Input is bounded before it expands: a YAML file larger than this, or one whose aliases
# expand to more values than this, is refused (a scenario is a few kilobytes; a list of
# 100,000 camera places is about 700 kB and 100,000 values).
MAX_YAML_BYTES = 8 * 2**20
MAX_YAML_VALUES = 1_000_000
# Names that become folder names (run.name, a sweep's name): no path separators, no "..".
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
NAME_RULE = "use up to 100 letters, digits, '.', '_' or '-', starting with a letter or digit"


def param(default: Any, unit: str, description: str, source: str, *, mid_run: bool = False,
          **bounds: Any) -> Any:
    """A model parameter: default, unit, description and source travel together, and whether
    a timeline may change it during a run (``mid_run``; the rest shape the city and its
    agents at the start)."""
    extra = {"unit": unit, "source": source, **({"mid_run": True} if mid_run else {})}
    return Field(default, description=description, json_schema_extra=extra, **bounds)


ASSUMPTION = "assumption"


def _holds_numbers(annotation: Any) -> bool:
    """Whether a field holds numbers: int or float, optional or in a list."""
    if annotation in (int, float):
        return True
    return any(_holds_numbers(arg) for arg in typing.get_args(annotation))


class Section(BaseModel):
    """Strict section: unknown keys are errors, assignments are validated, and a number is
    never read from a boolean nor a boolean from a number (``count: true`` is an error, not 1).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @field_validator("*", mode="before")
    @classmethod
    def _booleans_are_not_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        annotation = cls.model_fields[info.field_name].annotation
        if annotation is bool and not isinstance(value, bool):
            raise ValueError("expected true or false")
        if _holds_numbers(annotation):
            if isinstance(value, bool):
                raise ValueError("expected a number, not true or false")
            if isinstance(value, list) and any(isinstance(item, bool) for item in value):
                raise ValueError("expected numbers, not true or false")
        return value


class RunSettings(Section):
    """How long and with which random stream."""

    days: float = param(30.0, "days", "Simulated duration.", ASSUMPTION, gt=0, le=3650)
    seed: int = param(
        42, "-", "Seed of the model's random generator (all random draws).", ASSUMPTION,
        ge=0, le=2**63 - 1,
    )
    name: str | None = param(
        None, "-", "Scenario name for outputs; defaults to the config file's stem.", ASSUMPTION
    )
    start_date: date | None = param(
        None, "date (YYYY-MM-DD)", "Calendar date of simulated day 0, so the app and reports "
        "can show dates; null for a town without a calendar. Changes no result.",
        "the scenario's period (e.g. Islamabad from 1 January 2015, docs/scenarios.md)",
    )

    @field_validator("name")
    @classmethod
    def _folder_name(cls, name: str | None) -> str | None:
        if name is not None and not NAME.match(name):
            raise ValueError(NAME_RULE)
        return name


class CitySettings(Section):
    """The street graph: a seeded generator or a street network file."""

    source: Literal["generator", "file"] = param(
        "generator", "-",
        "Where the streets come from: the seeded generator (city.generator) or a file "
        "(city.file). It is file whenever city.file is given.", ASSUMPTION,
    )
    generator: Literal["grid", "organic"] = param(
        "grid", "-",
        "Synthetic street layout: perturbed grid or organic (Delaunay-based) city.", ASSUMPTION,
    )
    file: str | None = param(
        None, "-",
        "Street network file: GraphML (osmnx-style or plain, node x/y and edge length in "
        "metres; lon/lat is projected; a crs graph attribute names its CRS) or OpenStreetMap "
        "XML (.osm) or PBF (.osm.pbf), both needing the geo extra. Relative paths are "
        "relative to the config file. city.graph_file is an older name.",
        "OpenStreetMap contributors (ODbL) via osmnx and pyrosm, or any GraphML export",
    )
    land_use: Literal["generated", "mapped"] = param(
        "generated", "-",
        "Where land use, homes and attractiveness come from: generated from city.centres and "
        "the seed, or mapped from the OpenStreetMap tags around each place in city.file (.osm "
        "or .osm.pbf; see docs/real-data.md for the mapping).",
        "tag mapping after Brantingham & Brantingham 1995 and Bernasco & Block 2011; "
        "weights an assumption",
    )
    attractiveness_points: str | None = param(
        None, "-",
        "Points file whose points (past crimes, venues) set each place's attractiveness, "
        "spread over places with the kernel of city.kernel_m: CSV with lon,lat (WGS84) or x,y "
        "(the city's CRS) and an optional weight column, or a GeoPackage, shapefile or "
        "GeoJSON of points. Relative paths are relative to the config file.",
        ASSUMPTION,
    )
    kernel_m: float = param(
        50.0, "m", "Bandwidth of the Gaussian kernel that spreads mapped features and "
        "attractiveness points over the street places near them (cut at three bandwidths).",
        "about half a short block; assumption", gt=0, le=5000,
    )
    snap_max_m: float = param(
        250.0, "m", "Farthest a mapped camera or an attractiveness point may be from every "
        "street place and still belong to the city.", ASSUMPTION, gt=0, le=50_000,
    )
    attractiveness_floor: float = param(
        0.1, "fraction of the mean", "Attractiveness every place has before mapped features "
        "or points add theirs (land_use mapped, attractiveness_points): targets exist where "
        "no data shows them.", ASSUMPTION, ge=0, le=100,
    )
    nodes: int = param(
        900, "intersections", "Approximate number of street intersections to generate.",
        ASSUMPTION, ge=16, le=200_000,
    )
    block_m: float = param(
        120.0, "m", "Mean street segment length between intersections.",
        "typical urban block faces of 80-200 m; assumption", gt=10, le=2000,
    )
    jitter: float = param(
        0.2, "fraction of block", "Random displacement of generated intersections.",
        ASSUMPTION, ge=0, le=0.45,
    )
    edge_drop: float = param(
        0.1, "fraction", "Share of generated street segments removed to break regularity.",
        ASSUMPTION, ge=0, le=0.5,
    )
    centres: int = param(
        3, "count", "Commercial centres (crime attractors) in the generated city.",
        ASSUMPTION, ge=1, le=50,
    )
    centre_radius_m: float = param(
        400.0, "m", "Radius of a commercial centre; mixed use extends to twice this.",
        ASSUMPTION, gt=0, le=20_000,
    )
    attractiveness_sigma: float = param(
        1.3, "log-units", "Spread (lognormal sigma) of target attractiveness between places.",
        "chosen so crime concentrates as in Weisburd 2015; assumption", ge=0, le=3,
    )
    destinations: int = param(
        200, "count", "Shared activity places (work, shops, leisure) offenders travel to.",
        ASSUMPTION, ge=2, le=5000,
    )
    seed: int | None = param(
        None, "-", "Seed for the city alone; defaults to run.seed. Fix it to keep one city "
        "across replicates.", ASSUMPTION, ge=0, le=2**63 - 1,
    )

    @model_validator(mode="before")
    @classmethod
    def _file_means_file_source(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if data.get("graph_file") is not None and data.get("file") is None:
                data["file"] = data["graph_file"]  # the older name of the key
            data.pop("graph_file", None)
            if data.get("file") is not None:
                data["source"] = "file"  # a file given is the source, however it was set
        return data

    @model_validator(mode="after")
    def _file_given(self) -> CitySettings:
        if self.source == "file" and not self.file:
            raise ValueError("city.file is required when city.source is file")
        if self.land_use == "mapped" and self.source != "file":
            raise ValueError("city.land_use mapped needs a street file (city.file, .osm or "
                             ".osm.pbf)")
        return self


class OffenderSettings(Section):
    """Motivated offenders following routine activities."""

    count: int = param(
        200, "offenders", "Motivated offenders in the city.", ASSUMPTION, ge=0, le=100_000
    )
    speed_kmh: float = param(
        5.0, "km/h", "Travel speed of offenders along streets (walking).",
        "typical walking speed", gt=0, le=120,
    )
    anchors: int = param(
        2, "places", "Activity places (besides home) in each offender's routine.",
        "routine activity theory, Cohen & Felson 1979; count an assumption", ge=1, le=10,
    )
    anchor_distance_m: float = param(
        1500.0, "m", "Distance decay scale for choosing activity places near home.",
        "journey-to-crime decay, Rossmo 2000; scale an assumption", gt=0, le=100_000,
    )
    dwell_home_h: float = param(
        12.0, "h", "Mean time spent at home between trips.", ASSUMPTION, gt=0, le=240, mid_run=True
    )
    dwell_activity_h: float = param(
        3.0, "h", "Mean time spent at an activity place.", ASSUMPTION, gt=0, le=240, mid_run=True
    )
    opportunity_rate: float = param(
        4e-4, "per place passed", "Hazard of meeting a suitable target at a place of mean "
        "attractiveness while passing it (the chance is 1 - exp(-hazard), about the hazard "
        "when small).", "calibrated to about 20 crimes per offender-year; "
        "assumption", ge=0, le=1, mid_run=True,
    )
    risk_aversion: float = param(
        1.0, "-", "Exponent k in P(offend) = (1 - perceived risk)^k.", ASSUMPTION, ge=0, le=50,
        mid_run=True
    )
    base_risk: float = param(
        0.05, "probability", "Perceived risk of arrest by police alone (no camera or police in "
        "sight) before any experience; each offender then learns it from their own outcomes "
        "(police_learning_rate).", ASSUMPTION, ge=0, lt=1,
    )
    initial_camera_risk: float = param(
        0.3, "probability", "Perceived risk of arrest through a camera before any experience "
        "(launch publicity), the same for every camera.", ASSUMPTION, ge=0, le=1,
    )
    learning_rate: float = param(
        0.2, "-", "Weight of one own outcome at a camera (arrested through it, or got away) in "
        "the offender's belief about that camera.", ASSUMPTION, ge=0, le=1, mid_run=True,
    )
    generalisation: float = param(
        0.5, "-", "Share of an update about one camera that an offender also applies to "
        "cameras in general (the belief about cameras not yet experienced).",
        "assumption: one control room runs every camera, so what one camera does says much "
        "about the others", ge=0, le=1, mid_run=True,
    )
    peer_learning_rate: float = param(
        0.05, "-", "Weight of a peer's outcome at a camera (arrested through it, or got away) "
        "in a hearer's belief about that camera.",
        ASSUMPTION, ge=0, le=1, mid_run=True,
    )
    peer_observation_prob: float = param(
        0.1, "probability", "Chance that an offender hears of another's outcome at a camera.",
        ASSUMPTION, ge=0, le=1, mid_run=True,
    )
    police_learning_rate: float = param(
        0.1, "-", "Weight of one own outcome (arrested on the scene without a camera's help, "
        "or not) in the offender's perceived risk of arrest by police alone.",
        "Lochner 2007; Anwar & Loughran 2011 (arrests raise, getting away lowers perceived "
        "risk; others' arrests barely move it); size an assumption", ge=0, le=1, mid_run=True,
    )
    repeat_boost: float = param(
        1.0, "-", "After a crime that ended without arrest on the scene, how much the "
        "offender's own chance of finding a target at that place rises (x(1 + boost)), "
        "fading with near_repeat_days and falling linearly to nothing at "
        "near_repeat_radius_m (the boost account of near repeats).",
        "boost account: Pease 1998, Johnson & Bowers 2004, Bernasco 2008; size an "
        "assumption: Polvi et al. 1991 find a burgled home's risk about 12 times higher in "
        "the first month, and a place here holds about ten targets", ge=0, le=1000,
    )
    displacement_prob: float = param(
        0.5, "probability", "Chance that a deterred offender looks for another target later "
        "on the same trip.", "Guerette & Bowers 2009 find displacement in ~26% of "
        "observations; value an assumption", ge=0, le=1, mid_run=True,
    )
    sentence_days: float = param(
        30.0, "days", "Mean time an arrested offender is incapacitated.", ASSUMPTION,
        ge=0, le=3650, mid_run=True,
    )
    trend_per_year: float = param(
        0.0, "fraction per year", "Exogenous background trend in offending (0.029 = 2.9% more "
        "each year), independent of cameras and police.", "context brief: national crime "
        "+2.9% in 2018; a scenario input", ge=-0.9, le=5, mid_run=True,
    )
    near_repeat_excitation: float = param(
        2e-5, "per place passed per crime", "Hazard of a target added at each place within "
        "the radius by one recent crime (before decay).", "Johnson & Bowers 2004; "
        "self-exciting form after Mohler et al. 2011; size calibrated (validation.md)",
        ge=0, le=0.1,
    )
    near_repeat_radius_m: float = param(
        400.0, "m", "Radius of raised risk after a crime.",
        "Johnson & Bowers 2004 (300-400 m)",
        ge=0, le=5000,
    )
    near_repeat_days: float = param(
        30.0, "days", "Decay time of the raised risk after a crime.",
        "Johnson & Bowers 2004 (1-2 months)", gt=0, le=DAYS_PER_YEAR,
    )


class VictimSettings(Section):
    """Who reports a crime to the police, and how fast."""

    report_prob_robbery: float = param(
        0.6, "probability", "Chance a street robbery is reported.",
        "victimisation surveys, order of magnitude; assumption", ge=0, le=1, mid_run=True,
    )
    report_prob_theft: float = param(
        0.35, "probability", "Chance a theft is reported.", "victimisation surveys; assumption",
        ge=0, le=1, mid_run=True,
    )
    report_prob_burglary: float = param(
        0.7, "probability", "Chance a burglary is reported.", "victimisation surveys; "
        "assumption", ge=0, le=1, mid_run=True,
    )
    report_delay_median_min: float = param(
        10.0, "min", "Median delay from crime to a victim's call.",
        "Kansas City response time study: citizen delay dominates; value an assumption",
        ge=0, le=10_000, mid_run=True,
    )
    report_delay_sigma: float = param(
        0.7, "log-units", "Spread (lognormal sigma) of the reporting delay.", ASSUMPTION,
        ge=0, le=5, mid_run=True,
    )


class PatrolStrategy(StrEnum):
    """Where units patrol between calls; each has its class in ``abm.patrol.STRATEGIES``."""

    HOTSPOT = "hotspot"
    BEAT = "beat"
    RANDOM = "random"


class PoliceSettings(Section):
    """Police units: patrol, dispatch, arrest."""

    units: int = param(8, "units", "Police units on patrol at any time.", ASSUMPTION,
                       ge=0, le=10_000, mid_run=True)
    speed_kmh: float = param(
        30.0, "km/h", "Driving speed along streets, urban average.", ASSUMPTION, gt=0, le=200
    )
    patrol: PatrolStrategy = param(
        PatrolStrategy.HOTSPOT, "-", "Patrol strategy between calls (abm/patrol.py).",
        "Braga et al. 2019 (hot spots)", mid_run=True
    )
    hotspots: int = param(
        20, "places", "Places hot-spot patrol cycles through (highest recorded crime).",
        ASSUMPTION, ge=1, le=10_000, mid_run=True,
    )
    dwell_min: float = param(
        15.0, "min", "Time a unit stays at a patrol stop.", "Koper 1995 (10-15 min stops)",
        ge=0, le=600, mid_run=True,
    )
    residual_deterrence_min: float = param(
        30.0, "min", "How long police presence keeps deterring after the unit leaves.",
        "Koper 1995 residual deterrence; assumption", ge=0, le=MINUTES_PER_DAY, mid_run=True,
    )
    presence_radius_m: float = param(
        150.0, "m", "Radius in which a stopped or passing unit deters offenders.", ASSUMPTION,
        ge=0, le=5000, mid_run=True,
    )
    presence_risk: float = param(
        0.4, "probability", "Perceived risk added by visible police presence.", ASSUMPTION,
        ge=0, le=1, mid_run=True,
    )
    residual_saturation_min: float = param(
        15.0, "min", "Stop length beyond which residual deterrence no longer grows; shorter "
        "stops leave proportionally less.", "Koper 1995 (residual deterrence rises with stop "
        "length up to about 15 minutes)", gt=0, le=600, mid_run=True,
    )
    hotspot_source: Literal["recorded", "reported", "discovered"] = param(
        "recorded", "-", "Which incidents hot-spot patrol reads: every recorded crime, only "
        "crimes victims reported, or only crimes police discovered themselves.",
        "Ensign et al. 2018 (runaway feedback from discovered incidents)", mid_run=True,
    )
    initial_hotspots: Literal["attractive", "random"] = param(
        "attractive", "-", "Where hot-spot patrol goes before any incident is on record: the "
        "most attractive places, or places drawn at random (an uninformed start).",
        ASSUMPTION,
    )
    discovery_prob: float = param(
        0.0, "probability", "Chance that a crime committed within presence_radius_m of a "
        "unit on patrol or at a scene is seen by police and enters the record.",
        "Ensign et al. 2018 (discovered incidents); value an assumption (0: police discover "
        "nothing themselves)", ge=0, le=1, mid_run=True,
    )
    dispatch_delay_min: float = param(
        2.0, "min", "Call handling time before a unit is assigned.", ASSUMPTION, ge=0, le=600,
        mid_run=True
    )
    scene_time_min: float = param(
        40.0, "min", "Time a unit is busy at a scene.", ASSUMPTION, ge=0,
        le=MINUTES_PER_DAY, mid_run=True,
    )
    arrest_ref_prob: float = param(
        0.3, "probability", "Chance of an on-scene arrest at the reference response time.",
        ASSUMPTION, ge=0, le=1,
    )
    arrest_ref_min: float = param(
        12.0, "min", "Reference response time for the arrest curve (about the model's median "
        "response time, where the published slope applies).", ASSUMPTION, gt=0, le=600
    )
    arrest_drop_per_10pct: float = param(
        0.047, "probability", "Drop in arrest chance for a 10% longer response at the "
        "reference time.", "Blanes i Vidal & Kirchmaier 2018", ge=0, lt=1,
    )
    arrest_max_prob: float = param(
        0.9, "probability", "Upper limit of the on-scene arrest chance (instant response).",
        ASSUMPTION, gt=0, le=1,
    )

    @model_validator(mode="after")
    def _arrest_curve(self) -> PoliceSettings:
        if not self.arrest_ref_prob < self.arrest_max_prob:
            raise ValueError("arrest_ref_prob must be below arrest_max_prob")
        if not self.arrest_drop_per_10pct < self.arrest_ref_prob:
            raise ValueError("arrest_drop_per_10pct must be below arrest_ref_prob")
        return self


# Camera settings under which no camera ever fails within a run (the longest time between
# failures a setting allows, for single cameras and for cable segments, and nothing blocking a
# view): the "always working" cameras of evaluation twins, decomposition variants and doses.
NEVER_FAILING: dict[str, float | None] = {"mtbf_days": 36_500.0, "group_mtbf_days": 36_500.0,
                                          "obstruction_mtbf_days": None}


class CameraSettings(Section):
    """The CCTV system: where cameras are, whether they work, who watches."""

    count: int = param(30, "cameras", "Cameras installed.", ASSUMPTION, ge=0, le=100_000)
    placement: Literal["random", "attractive", "busiest", "hotspots", "max_coverage",
                       "mclp", "mapped", "list"] = param(
        "attractive", "-", "Where cameras go: random (uniform); attractive (drawn in "
        "proportion to target attractiveness, as cities do); busiest (highest street "
        "centrality, see busiest_by); hotspots (most recorded crime in a burn-in period "
        "without cameras); max_coverage (greedy most attractiveness within range_m); mclp "
        "(the most attractiveness within range_m, solved exactly as a maximal covering "
        "location problem); mapped (where the street file maps cameras, "
        "man_made=surveillance; count of them, drawn at random when fewer); list "
        "(cameras.nodes). See docs/placement.md.",
        "Ratcliffe 2006 and Piza et al. 2019 (siting at hot spots); Church & ReVelle 1974 "
        "(MCLP); OpenStreetMap (mapped); others assumption",
    )
    nodes: list[int] | None = param(
        None, "node ids", "Places of the cameras for placement list (model node ids 0..N-1, "
        "as in crimes.parquet); placement defaults to list when they are given, and count "
        "is set to their number.",
        ASSUMPTION,
    )
    busiest_by: Literal["betweenness", "degree"] = param(
        "betweenness", "-", "Centrality that ranks intersections for busiest placement: "
        "length-weighted betweenness (through traffic) or degree (streets meeting).",
        "space syntax / street centrality, Hillier 1996; Porta et al. 2006",
    )
    betweenness_sample: int = param(
        256, "intersections", "Source intersections sampled for betweenness on larger "
        "graphs (seeded from the camera stream); exact at or below this size.",
        "Brandes & Pich 2007 sampling; size an assumption", ge=2, le=1_000_000,
    )
    burn_in_days: float = param(
        30.0, "days", "Length of the crime record without cameras that hotspots placement "
        "reads: a pilot run of the same city with its own offenders, seeded from the camera "
        "stream.", ASSUMPTION, gt=0, le=3650,
    )
    install_day: float = param(
        0.0, "days", "Simulated day on which the cameras go live.", ASSUMPTION, ge=0, le=3650
    )
    range_m: float = param(
        60.0, "m", "Distance within which a camera watches street places.",
        "useful identification range of street CCTV; assumption", ge=0, le=1000,
    )
    mtbf_days: float = param(
        365.0, "days", "Mean time between hardware failures of one camera.", ASSUMPTION,
        gt=0, le=36_500, mid_run=True,
    )
    mttr_days: float = param(
        7.0, "days", "Mean time to repair a failed camera under a maintenance contract.",
        ASSUMPTION, gt=0, le=36_500, mid_run=True,
    )
    initial_down_share: float = param(
        0.0, "share", "Share of cameras with a hardware fault when they are installed (each "
        "camera independently; its repair, if any, is booked as for any failure). With "
        "mttr_days / (mtbf_days + mttr_days) it starts a system at its long-run uptime, for "
        "experiments on long outages.", "assumption: a new system works (0)", ge=0, le=1,
    )
    repair: bool = param(
        True, "-", "Whether failed cameras are repaired at all (Islamabad: no obligation).",
        "context brief: Islamabad", mid_run=True
    )
    groups: int = param(
        5, "segments", "Cable or power segments; one cut takes down every camera on it.",
        "context brief: 236 of 542 outages were cable cuts", ge=1, le=10_000,
    )
    group_mtbf_days: float = param(
        180.0, "days", "Mean time between cuts of one cable or power segment.", ASSUMPTION,
        gt=0, le=36_500, mid_run=True,
    )
    group_mttr_days: float = param(
        3.0, "days", "Mean time to restore a cut segment.", ASSUMPTION, gt=0, le=36_500,
        mid_run=True
    )
    obstruction_mtbf_days: float | None = param(
        None, "days", "Mean time until foliage or a moved mount blocks a camera's view; "
        "null for none.", "context brief: 166 of 542 outages were foliage", gt=0, le=36_500,
        mid_run=True,
    )
    obstruction_mttr_days: float = param(
        30.0, "days", "Mean time to clear a blocked view.", ASSUMPTION, gt=0, le=36_500,
        mid_run=True
    )
    hardware_visible_share: float = param(
        0.2, "probability", "Share of hardware failures that can be seen from the street "
        "(dismantled, vandalised, turned away); the rest (power, electronics, network) leave "
        "a camera looking as it did. Cable cuts are never visible.",
        "context brief: 26 of the 140 Islamabad outages not due to cable cuts or foliage were "
        "dismantled cameras (March 2018)", ge=0, le=1, mid_run=True,
    )
    obstruction_visible_share: float = param(
        1.0, "probability", "Share of blocked views (foliage) that can be seen from the "
        "street.", "assumption: foliage across a lens is seen from below", ge=0, le=1, mid_run=True,
    )
    operators: int = param(
        2, "operators", "Control-room operators watching feeds at any time.", ASSUMPTION,
        ge=0, le=10_000, mid_run=True,
    )
    feeds_on_screens: Literal["installed", "working"] = param(
        "installed", "-", "Which feeds the operators' monitors cycle through: every installed "
        "camera's (a camera tour laid out for the system as built, so a dead camera's turn on "
        "a screen shows nothing) or only the cameras that work (the control room drops a dead "
        "feed at once and gives its screen time to working ones).",
        "assumption: monitors show far fewer feeds than there are cameras (Gill & Spriggs "
        "2005) and nobody re-lays the tours as cameras fail; working is the best case of a "
        "control room that tracks every fault", mid_run=True,
    )
    log_live_detections: bool = param(
        True, "-", "Whether a crime an operator sees is entered in the police record even "
        "when no victim reports it (switch off to see how much of recorded crime the control "
        "room adds).", "assumption: incidents an operator raises are logged like calls",
        mid_run=True,
    )
    reporting_uplift: float = param(
        0.0, "probability", "Once the control room is live, the chance that a crime its "
        "victim would not have reported is reported after all (a new emergency line, "
        "publicity).", "a scenario input (0: none); recording effects of CCTV: Welsh & "
        "Farrington 2009", ge=0, le=1, mid_run=True,
    )
    feeds_per_operator: int = param(
        4, "monitors", "Feeds (monitors) each operator watches.",
        "Home Office operator test: 1, 4, 6, 9 monitors", ge=1, le=100, mid_run=True,
    )
    alert_delay_min: float = param(
        1.0, "min", "Delay from a live detection to the call reaching dispatch.", ASSUMPTION,
        ge=0, le=600, mid_run=True,
    )
    footage_id_prob: float = param(
        0.2, "probability", "Chance that footage from a working camera identifies the "
        "offender of a reported crime.", ASSUMPTION, ge=0, le=1, mid_run=True,
    )
    footage_delay_days: float = param(
        7.0, "days", "Time from the crime to an arrest made from footage.", ASSUMPTION,
        ge=0, le=3650, mid_run=True,
    )
    perceived_range_factor: float = param(
        2.0, "-", "How much farther than they watch offenders believe cameras see "
        "(diffusion of benefits).", "Guerette & Bowers 2009 diffusion; value an assumption",
        ge=1, le=20,
    )
    buffer_m: float = param(
        300.0, "m", "Width of the buffer around coverage used to measure displacement.",
        ASSUMPTION, ge=0, le=10_000,
    )

    @model_validator(mode="before")
    @classmethod
    def _nodes_mean_list(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("nodes"), list):
            data = dict(data)
            data.setdefault("placement", "list")
            if data["placement"] == "list":
                data["count"] = len(data["nodes"])
        return data

    @model_validator(mode="after")
    def _list_has_nodes(self) -> CameraSettings:
        if self.placement == "list" and self.nodes is None:
            raise ValueError("cameras.nodes is required when cameras.placement is list")
        if self.placement != "list" and self.nodes is not None:
            raise ValueError(f"cameras.nodes is given but cameras.placement is "
                             f"{self.placement}; set cameras.placement=list")
        if self.nodes is not None and len(set(self.nodes)) != len(self.nodes):
            raise ValueError("cameras.nodes lists a place twice")
        return self


# Hourly profiles (hour 0 is midnight to 1 am), each scaled to a mean of 1 by the model. Their
# shapes follow the sources named in DaytimeSettings; the values are assumptions.
OFFENDERS_OUT = [1.0, 0.8, 0.6, 0.45, 0.35, 0.35, 0.45, 0.6, 0.75, 0.85, 0.95, 1.0,
                 1.1, 1.1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.6, 1.5, 1.35, 1.2]
TARGETS_EXPOSED = {
    "residential": [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.6, 0.8, 1.4, 1.4, 1.4, 1.4,
                    1.4, 1.4, 1.4, 1.4, 1.4, 1.1, 0.9, 0.9, 0.9, 0.6, 0.6, 0.6],
    "mixed": [1.3, 1.3, 1.1, 0.5, 0.5, 0.5, 0.6, 0.6, 0.6, 0.9, 0.9, 0.9,
              0.9, 0.9, 0.9, 0.9, 0.9, 1.1, 1.1, 1.1, 1.4, 1.4, 1.4, 1.4],
    "commercial": [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.5, 0.9, 1.5, 1.5, 1.5,
                   1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.3, 1.0, 0.7, 0.5, 0.3],
    "park": [0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.8, 0.8, 0.8, 1.2, 1.2, 1.2,
             1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.1, 1.1, 1.1, 0.7, 0.7],
}


def _hourly(value: list[float] | None, label: str) -> list[float] | None:
    if value is not None and (len(value) != 24 or min(value) < 0 or sum(value) <= 0):
        raise ValueError(f"{label}: give 24 hourly weights, none negative, not all 0")
    return value


class DaytimeSettings(Section):
    """Time of day: hourly profiles of offenders' routines, exposed targets and police on
    duty (docs/ODD.md section 7.12)."""

    clock: bool = param(
        True, "-", "Whether the hour of the day matters: offenders leave places, targets are "
        "exposed and police are on duty by the hourly profiles below (false: every hour "
        "alike).", "Felson & Poulsen 2003 (crime by time of day)",
    )
    offenders_out: list[float] = param(
        OFFENDERS_OUT, "relative weight per hour", "When offenders leave a place (home or an "
        "activity place): the hazard of leaving by hour, scaled to a mean of 1, so stays "
        "keep their mean length (offenders.dwell_home_h, dwell_activity_h) and end more often "
        "in the afternoon and evening than before dawn.",
        "shape after Felson & Poulsen 2003 (crime lowest about 5 am, highest afternoon and "
        "evening); values an assumption",
    )
    targets_exposed: dict[Literal["residential", "mixed", "commercial", "park"],
                          list[float]] = param(
        TARGETS_EXPOSED, "relative weight per hour, by land use", "How exposed targets are at "
        "each hour by the land use of the place (guardians away, venues open), scaled to a "
        "mean of 1: a place's attractiveness is multiplied by its hour's weight.",
        "homes empty in the working day: Coupe & Blake 2006; shops while open; the night-time "
        "economy of mixed streets late at night: Newton & Hirschfield 2009; street robbery in "
        "darkness: Tompson & Bowers 2013; values an assumption",
    )
    police_on_duty: list[float] | None = param(
        None, "share of police.units per hour", "Share of the units on duty at each hour "
        "(shifts); null: every unit round the clock.",
        "assumption: round-the-clock cover, as the costs assume",
    )

    @field_validator("offenders_out", "police_on_duty")
    @classmethod
    def _hours(cls, value: list[float] | None, info: ValidationInfo) -> list[float] | None:
        return _hourly(value, info.field_name)

    @field_validator("targets_exposed")
    @classmethod
    def _uses(cls, value: dict) -> dict:
        for use, weights in value.items():
            _hourly(weights, f"targets_exposed.{use}")
        missing = {"residential", "mixed", "commercial", "park"} - set(value)
        if missing:
            raise ValueError(f"targets_exposed: give every land use ({', '.join(sorted(missing))}"
                             " missing)")
        return value

    @field_validator("police_on_duty")
    @classmethod
    def _shares(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and max(value) > 1:
            raise ValueError("police_on_duty: shares of police.units, at most 1")
        return value


class CostSettings(Section):
    """Unit costs for cost per crime prevented."""

    camera_usd: float = param(
        20_000.0, "USD per camera", "Purchase and installation of one camera (capital).",
        "Islamabad: about USD 100 million for about 1,950 cameras incl. control room, "
        "so up to ~USD 50k; assumption", ge=0, le=1e9,
    )
    camera_maintenance_usd_per_year: float = param(
        1_500.0, "USD per camera-year", "Maintenance and connectivity of one camera.",
        ASSUMPTION, ge=0, le=1e9,
    )
    operator_usd_per_year: float = param(
        30_000.0, "USD per position-year", "One operator position staffed round the clock "
        "(all shifts).", ASSUMPTION, ge=0, le=1e9,
    )
    police_unit_usd_per_year: float = param(
        250_000.0, "USD per unit-year", "One police unit staffed round the clock.",
        ASSUMPTION, ge=0, le=1e9,
    )
    camera_life_years: float = param(
        7.0, "years", "Service life over which camera purchase is spread.", ASSUMPTION,
        gt=0, le=100,
    )


class News(Section):
    """A report on the cameras' state that offenders may hear (press, word on the street)."""

    cameras_broken_share: float = param(
        0.5, "share", "Share of the cameras the report says are out of order.",
        "context brief: Islamabad reports of 29%, 37% and half the cameras down", ge=0, le=1)
    reach: float = param(
        0.5, "probability", "Chance that a given offender hears of the report.", ASSUMPTION,
        ge=0, le=1)


class Change(Section):
    """A dated event: settings that change (a budget cut, a new contract, a policy), a news
    report on the cameras, or both."""

    day: float = Field(ge=0, le=36_500, description="Simulated day the change takes effect.")
    set: dict[str, Any] = Field(default_factory=dict,
                                description="Settings that change, as section.key: value.")
    news: News | None = Field(
        None, description="A report on the cameras' state that offenders may hear; hearers "
        "scale their camera beliefs by the share working it reports (against the last report "
        "they heard).")
    cameras_only: bool = Field(
        False, description="The change happens only because the cameras are installed (e.g. "
        "staff moved to the control room); the no-camera twin leaves it out.")

    @model_validator(mode="after")
    def _something(self) -> Change:
        if not self.set and self.news is None:
            raise ValueError("a timeline entry needs set or news")
        return self


# Offender-camera pairs whose beliefs a run keeps (4 bytes each: 200 MB at most).
MAX_BELIEF_PAIRS = 50_000_000


class Config(Section):
    """A whole scenario."""

    run: RunSettings = RunSettings()
    city: CitySettings = CitySettings()
    offenders: OffenderSettings = OffenderSettings()
    victims: VictimSettings = VictimSettings()
    police: PoliceSettings = PoliceSettings()
    cameras: CameraSettings = CameraSettings()
    daytime: DaytimeSettings = DaytimeSettings()
    costs: CostSettings = CostSettings()
    timeline: list[Change] = Field(
        default_factory=list,
        description="Dated changes of settings during the run (time-varying inputs).")

    @model_validator(mode="after")
    def _beliefs_fit(self) -> Config:
        pairs = self.offenders.count * self.cameras.count
        if pairs > MAX_BELIEF_PAIRS:
            raise ValueError(
                f"offenders.count x cameras.count is {pairs:,}: each offender keeps a belief "
                f"about each camera, at most {MAX_BELIEF_PAIRS:,} pairs")
        return self

    @model_validator(mode="after")
    def _check_timeline(self) -> Config:
        data = self.model_dump(mode="json", exclude={"timeline"})
        for change in sorted(self.timeline, key=lambda c: c.day):
            where = f"timeline day {change.day:g}"
            for key, value in change.set.items():
                if key not in MUTABLE:
                    raise ValueError(f"{where}: {key} cannot change during a run")
                set_key(data, key, value, label=where + ":")
            try:
                Config.model_validate(data)
            except ValidationError as exc:
                raise ValueError(f"{where}: {_describe(exc.errors()[0])}") from None
        return self

    def get(self, key: str) -> Any:
        """The value of a dotted key such as ``cameras.count``."""
        setting(key)
        node: Any = self
        for part in key.split("."):
            node = getattr(node, part)
        return node

    def changed(self, changes: Mapping[str, Any], origin: str = "settings") -> Config:
        """A validated copy with ``changes`` (dotted key: value) applied; the copy is checked
        as a whole, so a ConfigError names ``origin`` and the first key that does not fit."""
        data = self.model_dump(mode="json")
        for key, value in changes.items():
            set_key(data, key, value, label=f"{origin}:")
        return validate(data, origin)

    def differences(self, other: Config) -> dict[str, Any]:
        """Dotted keys whose values differ in ``other``, with its values as JSON-ready data
        (``run.name`` aside; a differing timeline as the key ``timeline``)."""
        mine, theirs = self.model_dump(mode="json"), other.model_dump(mode="json")
        out: dict[str, Any] = {}
        for section, values in theirs.items():
            if not isinstance(values, dict):
                if values != mine.get(section):
                    out[section] = values
                continue
            for key, value in values.items():
                if (section, key) != ("run", "name") and value != mine[section].get(key):
                    out[f"{section}.{key}"] = value
        return out

    def assign(self, changes: Mapping[str, Any]) -> None:
        """Change settings of this config in place, each validated as it is assigned: a
        timeline's changes during a run, seen at once by every part that holds a section."""
        for key, value in changes.items():
            if key not in MUTABLE:
                raise ConfigError(f"{key} cannot change during a run")
            section, name = key.split(".")
            setattr(getattr(self, section), name, value)

    def hash(self) -> str:
        """Short, stable hash of the resolved settings (names output folders)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:8]

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


def sections() -> dict[str, type[Section]]:
    """The sections of a scenario (run, city, ...) by name; the timeline is not one."""
    return {name: info.annotation for name, info in Config.model_fields.items()
            if isinstance(info.annotation, type) and issubclass(info.annotation, Section)}


# Settings a timeline may change during a run (marked ``mid_run`` on the field); the rest shape
# the city and its agents at the start.
MUTABLE = frozenset(f"{name}.{key}" for name, section in sections().items()
                    for key, field in section.model_fields.items()
                    if (field.json_schema_extra or {}).get("mid_run"))


def choices(key: str) -> tuple[str, ...]:
    """The values a setting with a fixed set of them may take (a Literal or an enum)."""
    annotation = setting(key).annotation
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return tuple(str(member.value) for member in annotation)
    return tuple(str(value) for value in typing.get_args(annotation))


def setting(key: str) -> FieldInfo:
    """The schema field a dotted key names (``cameras.count``); ConfigError '<key>: ...' for a
    key that names no setting."""
    model: type[BaseModel] | None = Config
    path = key.split(".")
    for depth, part in enumerate(path):
        fields = model.model_fields if model is not None else {}
        if part not in fields:
            raise ConfigError(f"{key}: unknown key")
        field = fields[part]
        annotation = field.annotation
        model = annotation if isinstance(annotation, type) and issubclass(
            annotation, BaseModel) else None
        if depth == len(path) - 1:
            if model is not None:
                raise ConfigError(f"{key}: is a section, name a key in it")
            return field
        if model is None:
            raise ConfigError(f"{key}: {part} is not a section")
    raise ConfigError(f"{key}: unknown key")  # (an empty key)


def shown(value: Any, limit: int = 60) -> str:
    """A value as an error message quotes it: one short line, however long the input."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        try:
            return f"a number of {len(str(abs(value))):,} digits"
        except ValueError:  # more digits than Python writes out
            return f"a number of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def problem(err: dict) -> str:
    """What a pydantic error says, as a one-line message says it: 'unknown key', or the
    message with the value that broke it (a scenario's, a sweep file's, any spec's)."""
    if err["type"] == "extra_forbidden":
        return "unknown key"
    msg = err["msg"].removeprefix("Value error, ")
    if "input" in err and not isinstance(err["input"], dict | list) and err["type"] != "missing":
        msg = f"{msg} (got {shown(err['input'])})"
    return msg


def _describe(err: dict) -> str:
    key = ".".join(str(p) for p in err["loc"])
    return f"{key}: {problem(err)}" if key else problem(err)


def validate(data: Any, origin: str = "config") -> Config:
    """Validate a mapping into a Config, raising ConfigError with one line."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: expected a mapping of sections, got {type(data).__name__}")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = len(exc.errors()) - 1
        tail = f" (and {more} more problem{'s' * (more > 1)})" if more else ""
        raise ConfigError(f"{origin}: {_describe(first)}{tail}") from None


def read_yaml(path: str | Path, max_bytes: int = MAX_YAML_BYTES) -> Any:
    """Parse a YAML file, turning every failure into a one-line ConfigError.

    Reads at most ``max_bytes`` (a device of endless data is refused, not read), and refuses
    a document whose aliases expand to more than MAX_YAML_VALUES values.
    """
    path = Path(path)
    try:
        with path.open("rb") as file:
            raw = file.read(max_bytes + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.__class__.__name__})") from None
    if len(raw) > max_bytes:
        raise ConfigError(f"{path}: larger than {max_bytes:,} bytes; not a settings file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: cannot read (not UTF-8 text)") from None
    return parse_yaml(text, str(path))


def parse_yaml(text: str, origin: str) -> Any:
    """YAML text to data, bounded: one-line ConfigError for anything malformed or too big."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise ConfigError(f"{origin}:{where} malformed YAML: {problem}") from None
    except ValueError as exc:  # a value YAML recognises but Python cannot make
        if "integer string conversion" in str(exc):  # more than 4,300 digits
            raise ConfigError(f"{origin}: a number of more than "
                              f"{sys.get_int_max_str_digits():,} digits") from None
        raise ConfigError(f"{origin}: malformed YAML: {shown(str(exc))}") from None
    except RecursionError:
        raise ConfigError(f"{origin}: nested too deeply") from None
    count_values(data, origin)
    return data


def count_values(data: Any, origin: str, limit: int = MAX_YAML_VALUES) -> int:
    """How many values ``data`` holds with every alias expanded (each shared part counted
    once per use, in time linear in the distinct parts); more than ``limit`` is an error, and
    so is a part that contains itself."""
    sizes: dict[int, int | None] = {}

    def size(node: Any) -> int:
        if not isinstance(node, dict | list):
            return 1
        known = sizes.get(id(node), 0)
        if known is None:
            raise ConfigError(f"{origin}: a value contains itself (a recursive YAML alias)")
        if known:
            return known
        sizes[id(node)] = None
        total = 1
        for item in (node.values() if isinstance(node, dict) else node):
            total += size(item)
            if total > limit:
                raise ConfigError(f"{origin}: more than {limit:,} values once its aliases are "
                                  "expanded; refused")
        sizes[id(node)] = total
        return total

    try:
        return size(data)
    except RecursionError:
        raise ConfigError(f"{origin}: nested too deeply") from None


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``section.key=value``; the value is read as a YAML scalar (3, 0.5, true, null)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set {text!r}: expected section.key=value")
    return key.split("."), parse_value(raw, f"--set {key}")


def parse_value(text: str, origin: str) -> Any:
    """A value given as text (``--set``, a seed typed in the app) read as a YAML scalar: 3,
    0.5, true, null (nothing at all is null); ConfigError '<origin>: ...' for malformed text."""
    try:
        return parse_yaml(text, origin) if text.strip() else None
    except ConfigError as exc:
        if "malformed YAML" in str(exc):
            raise ConfigError(f"{origin}: cannot parse value {shown(text)}") from None
        raise


def set_key(data: dict, key: str, value: Any, label: str = "--set") -> None:
    """Set ``section.key`` in raw config data in place; the key must name a schema field
    (ConfigError '<label> <key>: ...' otherwise)."""
    try:
        setting(key)
    except ConfigError as exc:
        raise ConfigError(f"{label} {exc}") from None
    *sections_, name = key.split(".")
    node = data
    for part in sections_:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[name] = value


# Settings that name files (city.graph_file is the older name of city.file).
FILE_KEYS = ("city.file", "city.graph_file", "city.attractiveness_points")


def beside(folder: Path, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings a file in ``folder`` gives (a sweep, a spec), with the files they name
    relative to that folder."""
    return {key: str((folder / value).resolve()) if key in FILE_KEYS and isinstance(value, str)
            and not Path(value).is_absolute() else value for key, value in settings.items()}


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Apply ``--set`` overrides to a copy of raw config data."""
    data = copy.deepcopy(data or {})
    for text in overrides:
        path, value = parse_override(text)
        set_key(data, ".".join(path), value)
    return data


def load(path: str | Path, overrides: list[str] | None = None) -> Config:
    """Read, override and validate a scenario file. A relative city.file resolves to the file."""
    path = Path(path)
    data = read_yaml(path)
    if data is None:
        raise ConfigError(f"{path}: empty file, no settings (write {{}} to run every default)")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections, got {type(data).__name__}")
    try:
        data = apply_overrides(data or {}, overrides or [])
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    config = validate(data, origin=str(path))
    if config.run.name is None:
        config.run.name = folder_name(path.stem)
    for key in ("file", "attractiveness_points"):
        given = getattr(config.city, key)
        if given and not Path(given).is_absolute():
            # A path from the file is relative to the file; one from --set to where you are.
            overridden = any(parse_override(o)[0] == ["city", key] for o in overrides or [])
            setattr(config.city, key,
                    str(((Path() if overridden else path.parent) / given).resolve()))
    return config


def folder_name(text: str) -> str:
    """``text`` made a valid run name: other characters become '-' (``my town`` -> ``my-town``)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")[:100]
    return name if NAME.match(name) else "run"


def from_overrides(overrides: list[str], base: dict | None = None) -> Config:
    """A Config from defaults (or ``base``) plus overrides: the Python and app entry point."""
    return validate(apply_overrides(base or {}, overrides), origin="settings")


def parameter_table() -> list[dict[str, Any]]:
    """Every parameter with section, key, unit, default, bounds, whether a timeline may change
    it, description and source."""
    rows = []
    for section, model in sections().items():
        for key, field in model.model_fields.items():
            extra = field.json_schema_extra or {}
            bounds = []
            for meta in field.metadata:
                for name, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
                    if getattr(meta, name, None) is not None:
                        bounds.append(f"{sym} {getattr(meta, name):g}")
            rows.append({
                "key": f"{section}.{key}",
                "unit": extra.get("unit", ""),
                "default": field.default,
                "bounds": ", ".join(bounds),
                "mid_run": bool(extra.get("mid_run")),
                "description": field.description or "",
                "source": extra.get("source", ""),
            })
    return rows


PARAMS_BEGIN = "<!-- parameters:begin (generated by `abm params --write docs/ODD.md`) -->"
PARAMS_END = "<!-- parameters:end -->"


def parameter_markdown() -> str:
    """The parameter table for docs/ODD.md, generated from the schema."""
    lines = ["| key | unit | default | bounds | mid-run | description | source |",
             "|---|---|---|---|---|---|---|"]
    for row in parameter_table():
        default = "null" if row["default"] is None else row["default"]
        cells = [f"`{row['key']}`", row["unit"], f"{default}", row["bounds"],
                 "yes" if row["mid_run"] else "", row["description"], row["source"]]
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def with_parameter_table(text: str) -> str:
    """Replace the generated block between the markers in a document."""
    start, end = text.find(PARAMS_BEGIN), text.find(PARAMS_END)
    if start < 0 or end < start:
        raise ConfigError("document has no parameter markers")
    return (text[:start] + PARAMS_BEGIN + "\n" + parameter_markdown() + "\n"
            + text[end:])
