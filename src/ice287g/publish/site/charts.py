"""The release page's charts: Altair (Vega-Lite) specifications of a release's tables, rendered to
SVG by vl-convert at build time, each with a title, axis units, a source line and alt text.

The same tables always give the same bytes: no chart depends on the clock, and the colours are
the Okabe-Ito palette, which colour-blind readers can tell apart.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import pandas as pd
import vl_convert

# Colours from Okabe & Ito (2008), "Color Universal Design": distinguishable with every common
# colour deficiency.
# In the order the charts stack them (bottom first) and the legends list them.
MODELS = {
    "jail_enforcement": "Jail Enforcement",
    "task_force": "Task Force",
    "warrant_service_officer": "Warrant Service Officer",
}
MODEL_COLOURS = ["#E69F00", "#0072B2", "#009E73"]
OUTCOMES = {
    "pending": "still pending",
    "signed": "signed",
    "signed_other_model": "signed, other model",
    "already_participating": "already participating",
    "withdrawn": "withdrawn",
}
# signed in blue like the agreements it became; withdrawn in the warm colour that stands out
OUTCOME_COLOURS = ["#E69F00", "#0072B2", "#56B4E9", "#009E73", "#D55E00"]
WIDTH = 640
# Signings before this year are few (a handful per year); the monthly chart starts here and says
# how many it leaves out.
MONTHLY_FROM = 2019


@dataclass(frozen=True)
class Chart:
    """A rendered chart: its file stem, its SVG and the text that stands for it."""

    name: str
    title: str
    svg: str
    alt: str


def model_label(column: pd.Series) -> pd.Series:
    return column.map(MODELS).fillna("not named")


def _colours(field: str, title: str, labels: dict[str, str], colours: list[str]) -> alt.Color:
    return alt.Color(
        f"{field}:N",
        title=title,
        scale=alt.Scale(domain=list(labels.values()), range=colours),
        legend=alt.Legend(orient="top"),
    )


def _model_colours() -> alt.Color:
    return _colours("model", "Support model", MODELS, MODEL_COLOURS)


def _render(chart: alt.TopLevelMixin, name: str, title: str, alt_text: str, datasets: dict | None = None) -> Chart:
    spec = chart.to_dict()
    # large inline data (the map's TopoJSON) joins after Altair's checks, which would copy it
    spec.setdefault("datasets", {}).update(datasets or {})
    svg = compact(vl_convert.vegalite_to_svg(spec))
    # role and label make the SVG an image with alt text for screen readers
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(alt_text)}" ', 1)
    return Chart(name, title, svg, alt_text)


def _title(text: str, subtitle: str, source: str) -> alt.TitleParams:
    return alt.TitleParams(text, subtitle=[subtitle, source], anchor="start", subtitleColor="#444")


def _stacked(
    chart: alt.Chart, x: alt.X, y: alt.Y, colour: alt.Color, size: tuple, title: str, subtitle: str, source: str
) -> alt.Chart:
    """``chart`` stacked by ``colour`` in its legend's order, sized and titled."""
    width, height = size
    encoding = colour.to_dict()
    # the stack's order is the legend's: the position of each value in the colour scale's domain
    rank = f"indexof({json.dumps(encoding['scale']['domain'])}, datum.{encoding['field']})"
    return (
        chart.transform_calculate(stack_rank=rank)
        .encode(x=x, y=y, color=colour, order=alt.Order("stack_rank:Q"))
        .properties(width=width, height=height, title=_title(title, subtitle, source))
    )


def _figures(values: dict[str, int]) -> str:
    return ", ".join(f"{label} {count:,}" for label, count in values.items())


def agreements_over_time(counts: pd.DataFrame, publications: pd.DataFrame, source: str) -> Chart:
    """Rows of every participating list by support model: the program's growth since 2021. Lists
    kept out of lineage (a damaged capture) are left out; two lists of one day share it, in order."""
    lists = publications[(publications["list"] == "participating") & (publications["is_in_lineage"] == "true")]
    lists = lists.assign(sequence=lists["sequence"].astype(int)).sort_values("sequence")
    day = pd.to_datetime(lists["published_date"])
    share = lists.groupby("published_date").cumcount() / lists.groupby("published_date")["sequence"].transform("size")
    listed_at = (day + pd.to_timedelta(share, unit="D")).dt.strftime("%Y-%m-%dT%H:%M")
    at = dict(zip(lists["publication_id"], listed_at, strict=True))
    rows = counts[counts["publication_id"].isin(at)].assign(
        model=lambda f: model_label(f["support_model"]),
        count=lambda f: f["count"].astype(int),
        listed_at=lambda f: f["publication_id"].map(at),
    )
    series = rows.groupby(["listed_at", "published_date", "model"], as_index=False)["count"].sum()
    newest = series[series["listed_at"] == series["listed_at"].max()]
    chart = _stacked(
        alt.Chart(series).mark_area(interpolate="step-after", opacity=0.9),
        alt.X("listed_at:T", title="Date of the list", axis=alt.Axis(format="%Y", tickCount="year")),
        alt.Y("sum(count):Q", title="Agreements listed (count)", stack="zero"),
        _model_colours(),
        (WIDTH, 280),
        "Agreements on ICE's participating list",
        f"Each of the {len(at):,} distinct lists ICE published, stacked by support model",
        source,
    )
    alt_text = (
        f"Stacked step chart of the agreements on each participating list from {series['published_date'].min()} "
        f"to {series['published_date'].max()}; on the newest list: "
        + _figures(dict(zip(newest["model"], newest["count"], strict=True)))
    )
    return _render(chart, "agreements-over-time", "Agreements over time", alt_text)


def signed_per_month(agreements: pd.DataFrame, source: str) -> Chart:
    """Agreements by the month they were signed, by support model."""
    signed = agreements.assign(
        model=lambda f: model_label(f["support_model"]), month=lambda f: f["signed_date"].str[:7]
    )
    shown = signed[signed["month"] >= f"{MONTHLY_FROM}-01"]
    left_out = len(signed) - len(shown)
    monthly = shown.groupby(["month", "model"], as_index=False).size()
    per_month = monthly.groupby("month")["size"].sum()
    busiest = (
        f"the busiest month is {per_month.idxmax()} with {per_month.max():,} agreements"
        if len(per_month)
        else "none signed"
    )
    chart = _stacked(
        alt.Chart(monthly).mark_bar(),
        alt.X("yearmonth(month):T", title="Month signed", axis=alt.Axis(format="%b %Y", labelAngle=0)),
        alt.Y("sum(size):Q", title="Agreements signed (count)"),
        _model_colours(),
        (WIDTH, 260),
        "Agreements signed per month",
        f"Every agreement ever listed, by its signing date since {MONTHLY_FROM}"
        + (f" ({left_out:,} signed earlier not shown)" if left_out else ""),
        source,
    )
    alt_text = (
        f"Stacked bar chart of agreements by month signed, {shown['month'].min()} to {shown['month'].max()}, "
        f"by support model; {busiest}"
    )
    return _render(chart, "signed-per-month", "Agreements signed per month", alt_text)


def active_by_state(active: pd.DataFrame, source: str) -> Chart:
    """Active agreements by state and model on the newest list, states ordered by total."""
    by_state = (
        active.assign(model=lambda f: model_label(f["support_model"]))
        .groupby(["state_code", "model"], as_index=False)
        .size()
    )
    totals = by_state.groupby("state_code")["size"].sum().sort_values(ascending=False, kind="stable")
    chart = _stacked(
        alt.Chart(by_state).mark_bar(),
        alt.X("sum(size):Q", title="Active agreements (count)", axis=alt.Axis(orient="top")),
        alt.Y("state_code:N", title="State", sort=list(totals.index)),
        _model_colours(),
        (WIDTH - 80, alt.Step(13)),
        "Active agreements by state",
        f"On the newest participating list: {len(active):,} agreements in {len(totals)} states",
        source,
    )
    alt_text = (
        f"Horizontal stacked bar chart of the {len(active):,} active agreements in {len(totals)} states; "
        "the five with most: " + _figures(totals.head(5).to_dict())
    )
    return _render(chart, "active-by-state", "Active agreements by state", alt_text)


def applications_outcomes(applications: pd.DataFrame, source: str) -> Chart:
    """Applications by the month they were first listed, coloured by what became of them."""
    rows = applications.assign(
        month=lambda f: f["first_listed_date"].str[:7], outcome_label=lambda f: f["outcome"].map(OUTCOMES)
    )
    monthly = rows.groupby(["month", "outcome_label"], as_index=False).size()
    totals = rows["outcome_label"].value_counts().reindex(list(OUTCOMES.values())).dropna().astype(int)
    chart = _stacked(
        alt.Chart(monthly).mark_bar(),
        alt.X("yearmonth(month):T", title="Month first listed as pending", axis=alt.Axis(format="%b %Y")),
        alt.Y("sum(size):Q", title="Applications (count)"),
        _colours("outcome_label", "What became of it", OUTCOMES, OUTCOME_COLOURS),
        (WIDTH, 260),
        "Pending applications and what became of them",
        f"{len(rows):,} applications on ICE's pending list, by the month each was first listed",
        source,
    )
    alt_text = f"Stacked bar chart of {len(rows):,} applications by month first listed; outcomes: " + _figures(
        totals.to_dict()
    )
    return _render(chart, "applications", "Pending applications", alt_text)


def county_map(active: pd.DataFrame, topojson: Path, source: str) -> Chart:
    """Counties of the agencies with active agreements, shaded by how many, over state outlines."""
    placed = active[active["county_fips"] != ""]
    by_county = placed.groupby("county_fips", as_index=False).size().rename(columns={"county_fips": "id"})
    # the TopoJSON's ids are the counties' FIPS codes
    topology = json.loads(topojson.read_text(encoding="utf-8"))
    # only the counties drawn: the arcs stay shared, the work and the SVG shrink to what is shown
    wanted = set(by_county["id"])
    objects = topology["objects"]
    objects["counties"]["geometries"] = [g for g in objects["counties"]["geometries"] if g.get("id") in wanted]
    counties = alt.Data(name="counties", format=alt.DataFormat(type="topojson", feature="counties"))
    # the nation as one shape under the counties, state borders as one mesh over them: a few paths
    nation = alt.Data(name="nation", format=alt.DataFormat(type="topojson", feature="nation"))
    borders = alt.Data(name="borders", format=alt.DataFormat(type="topojson", mesh="states"))
    base = alt.Chart(nation).mark_geoshape(fill="#eeeeee", stroke=None)
    shaded = (
        alt.Chart(counties)
        .mark_geoshape(stroke="#ffffff", strokeWidth=0.2)
        .transform_lookup(lookup="id", from_=alt.LookupData(by_county, "id", ["size"]))
        .transform_filter("isValid(datum.size)")
        .encode(
            color=alt.Color(
                "size:Q",
                title="Active agreements in the county",
                scale=alt.Scale(type="threshold", domain=[2, 4, 8], scheme="blues"),
                legend=alt.Legend(orient="top", type="symbol"),
            )
        )
    )
    outlines = alt.Chart(borders).mark_geoshape(filled=False, stroke="#666666", strokeWidth=0.5)
    unplaced = len(active) - len(placed)
    chart = (
        alt.layer(base, shaded, outlines)
        .project("albersUsa")
        .properties(
            width=WIDTH,
            height=400,
            title=_title(
                "Counties with agencies holding active agreements",
                f"{len(placed):,} active agreements in {len(by_county):,} counties"
                + (f"; {unplaced:,} of state-wide or unplaced agencies not shown" if unplaced else ""),
                source + "; boundaries: us-atlas (Census Bureau)",
            ),
        )
    )
    alt_text = (
        f"Map of the United States shading the {len(by_county):,} counties where agencies hold the "
        f"{len(placed):,} active agreements that have a county; the counties with most: "
        + (_figures(_top_counties(placed, topology)) or "none")
    )
    return _render(
        chart, "county-map", "County map", alt_text, {name: topology for name in ("counties", "nation", "borders")}
    )


def _top_counties(placed: pd.DataFrame, topology: dict) -> dict[str, int]:
    """The three counties with most agreements, named as the atlas names them (ties by FIPS)."""
    geometries = topology["objects"]["counties"]["geometries"]
    names = {g["id"]: g.get("properties", {}).get("name", g["id"]) for g in geometries}
    top = placed.groupby(["county_fips", "state_code"], as_index=False).size()
    top = top.sort_values(["size", "county_fips"], ascending=[False, True]).head(3)
    return {
        f"{names.get(fips, fips)}, {state}": int(n)
        for fips, state, n in zip(top["county_fips"], top["state_code"], top["size"], strict=True)
    }


def compact(svg: str) -> str:
    """The SVG with path coordinates rounded to one decimal: far fewer bytes, the same picture."""
    return re.sub(r' d="([^"]*)"', lambda m: ' d="' + re.sub(r"(\d\.\d)\d+", r"\1", m.group(1)) + '"', svg)
