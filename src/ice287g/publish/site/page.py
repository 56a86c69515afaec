"""Write a release's page: ``docs/index.html`` (headline figures, charts, what changed, the data
dictionary, how to cite and pin), ``docs/changes.csv`` and the README's chart, all from the
release's own files.

The page is one self-contained HTML file: inline SVG charts, inline CSS, no script, nothing loaded
from elsewhere, so it works from ``file://`` and two builds write identical bytes.
"""

from __future__ import annotations

import io
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pandas as pd
import yaml

from ice287g import PACKAGE_NAME
from ice287g.consume.locate import locate
from ice287g.errors import InputError
from ice287g.publish.changes import CHANGE_COLUMNS, CHANGE_KINDS, change_rows
from ice287g.publish.committed import INDEX, index_rows
from ice287g.publish.readme import errata_counts
from ice287g.publish.site import charts
from ice287g.publish.site.dictionary import tables
from ice287g.settings import Settings
from ice287g.sources.references import load_registry, resolve_references
from ice287g.util.csvfile import write_atomically

FOLDER = "docs"
PAGE = "index.html"
CHANGES = "changes.csv"
# The README shows this chart (committed beside the page).
README_CHART = "agreements-over-time.svg"
# Rows of each kind of change shown on the page; changes.csv has them all.
CHANGES_SHOWN = 40
ATLAS, ATLAS_LICENCE = "us_atlas_counties", "us_atlas_license"
TABLES_READ = ["publications", "agencies", "agreements", "applications", "counts", "errata"]


@dataclass(frozen=True)
class Release:
    """What the page describes: a version folder (dist/<version>) and its context."""

    folder: Path
    version: str
    since: str | None
    zip_sha256: str
    repository: str
    citation: dict
    references: list[dict]
    atlas: Path
    atlas_licence: str


def read_tables(folder: Path, names: list[str]) -> dict[str, pd.DataFrame]:
    """The release's CSVs as text, empty cells as empty strings."""
    return {name: pd.read_csv(folder / "data" / f"{name}.csv", dtype=str, keep_default_na=False) for name in names}


def active_agreements(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The agreements on the newest participating list, with their agency's state, county and name."""
    agencies = frames["agencies"].set_index("agency_id")[["state_code", "county_name", "agency_name"]]
    active = frames["agreements"][frames["agreements"]["status"] == "active"]
    return active.join(agencies, on="agency_id")


def headline(frames: dict[str, pd.DataFrame]) -> list[dict]:
    """The headline figures by support model and in all: active agreements, the agencies and states
    that hold them, and the applications still pending."""
    active = active_agreements(frames)
    pending = frames["applications"][frames["applications"]["outcome"] == "pending"]
    rows = []
    for model, label in [*charts.MODELS.items(), ("", "all models")]:
        held = active if label == "all models" else active[active["support_model"] == model]
        waiting = pending if label == "all models" else pending[pending["support_model"] == model]
        rows.append(
            {
                "model": model or "all",
                "label": label,
                "active_agreements": len(held),
                "agencies": held["agency_id"].nunique(),
                "states": held["state_code"].nunique(),
                "pending_applications": len(waiting),
            }
        )
    return rows


def newest_dates(publications: pd.DataFrame) -> dict[str, str]:
    return publications.groupby("list")["published_date"].max().to_dict()


def change_sections(changes: pd.DataFrame) -> list[dict]:
    sections = []
    for kind in CHANGE_KINDS:
        rows = changes[changes["change"] == kind]
        sections.append({"kind": kind, "count": len(rows), "rows": rows.head(CHANGES_SHOWN).to_dict("records")})
    return sections


def errata_section(frames: dict[str, pd.DataFrame]) -> dict:
    """The counts per errata rule and every erratum, with its agency's name, for the page."""
    errata = frames["errata"].merge(frames["agencies"][["agency_id", "agency_name"]], on="agency_id", how="left")
    return {
        "counts": errata_counts(errata).to_dict("records"),
        "rows": errata.sort_values(["state_code", "agency_name", "rule"]).fillna("").to_dict("records"),
    }


def citation_text(release: Release) -> str:
    authors = ", ".join(
        a.get("name") or f"{a.get('family-names', '')}, {a.get('given-names', '')}"
        for a in release.citation.get("authors", [])
    )
    year = release.version.split(".")[0]
    return (
        f"{authors} ({year}). {release.citation['title']} (Version {release.version}) [Data set]. {release.repository}"
    )


def render(release: Release, changes: pd.DataFrame) -> tuple[str, list[charts.Chart]]:
    """The page's HTML and its charts."""
    frames = read_tables(release.folder, TABLES_READ)
    descriptor = json.loads((release.folder / "datapackage.json").read_text(encoding="utf-8"))
    source = f"Source: ICE 287(g) lists as archived; {PACKAGE_NAME} {release.version}"
    active = active_agreements(frames)
    figures = [
        charts.agreements_over_time(frames["counts"], frames["publications"], source),
        charts.signed_per_month(frames["agreements"], source),
        charts.active_by_state(active, source),
        charts.applications_outcomes(frames["applications"], source),
        charts.county_map(active, release.atlas, source),
    ]
    downloads = f"{release.repository}/releases/download/v{release.version}"
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("ice287g.publish.site", "templates"),
        autoescape=True,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    html = environment.get_template("release.html.j2").render(
        package=PACKAGE_NAME,
        version=release.version,
        since=release.since,
        descriptor=descriptor,
        newest=newest_dates(frames["publications"]),
        headline=headline(frames),
        charts=figures,
        changes=change_sections(changes),
        errata=errata_section(frames),
        changes_file=CHANGES,
        shown=CHANGES_SHOWN,
        tables=tables(release.folder, descriptor, downloads),
        downloads=downloads,
        zip_sha256=release.zip_sha256,
        repository=release.repository,
        citation=citation_text(release),
        references=release.references,
        atlas_licence=release.atlas_licence,
    )
    return html, figures


def changes_csv(changes: pd.DataFrame, version: str, since: str | None) -> bytes:
    out = io.StringIO()
    framed = changes.reindex(columns=CHANGE_COLUMNS).assign(version=version, since_version=since or "")
    framed[["version", "since_version", *CHANGE_COLUMNS]].to_csv(out, index=False, lineterminator="\n")
    return out.getvalue().encode()


def saved_changes(docs: Path, version: str) -> pd.DataFrame | None:
    """The changes saved with ``version``'s page, or None when the saved ones are of another version."""
    path = docs / CHANGES
    if not path.exists():
        return None
    saved = pd.read_csv(path, dtype=str, keep_default_na=False)
    if list(saved.columns) != ["version", "since_version", *CHANGE_COLUMNS] or set(saved["version"]) - {version}:
        return None
    return saved[CHANGE_COLUMNS]


def write_site(release: Release, changes: pd.DataFrame, docs: Path) -> list[str]:
    """Write the page, its changes file and the README's chart into ``docs``, each atomically and
    only when its bytes differ; returns the paths written, relative to the release folder."""
    html, figures = render(release, changes)
    readme_chart = next(chart for chart in figures if f"{chart.name}.svg" == README_CHART)
    files = {
        PAGE: html.encode(),
        CHANGES: changes_csv(changes, release.version, release.since),
        README_CHART: readme_chart.svg.encode(),
    }
    docs.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        target = docs / name
        if not target.exists() or target.read_bytes() != content:
            write_atomically(target, content)
            written.append(f"{FOLDER}/{name}")
    return written


def citation(root: Path) -> dict:
    return yaml.safe_load((root / "CITATION.cff").read_text(encoding="utf-8"))


def since_version(release_root: Path, version: str) -> str | None:
    """The release before ``version`` in releases.csv (None for the first)."""
    versions = [row["version"] for row in index_rows(release_root)]
    position = versions.index(version) if version in versions else len(versions)
    return versions[position - 1] if position > 0 else None


def release_for(settings: Settings, folder: Path) -> Release:
    """The page's inputs for the version in ``folder``, once it is the committed release."""
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    version = descriptor["version"]
    row = next((r for r in index_rows(settings.release) if r["version"] == version), None)
    if row is None:
        raise InputError(str(settings.release / INDEX), f"version {version} is not released: no page for it")
    cff = citation(settings.root)
    references = load_registry(settings.reference_registry)
    paths = resolve_references(settings, [r for r in references if r.name in (ATLAS, ATLAS_LICENCE)])
    return Release(
        folder=folder,
        version=version,
        since=since_version(settings.release, version),
        zip_sha256=row["zip_sha256"],
        repository=cff["repository-code"],
        citation=cff,
        references=[{"description": r.description, "license": r.license} for r in references],
        atlas=paths[ATLAS],
        atlas_licence=paths[ATLAS_LICENCE].read_text(encoding="utf-8").strip(),
    )


def publish_site(settings: Settings, folder: Path, changes: pd.DataFrame | None) -> list[str]:
    """Write the page of the committed release built in ``folder`` into ``<release>/docs``.

    ``changes`` are what changed since the release before (compared before it was replaced); None
    when the release was already committed, in which case the saved ``docs/changes.csv`` is used, or
    the comparison is made again with the release before, found in git."""
    release = release_for(settings, folder)
    docs = settings.release / FOLDER
    if changes is None:
        changes = saved_changes(docs, release.version)
    if changes is None:
        settings.build_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=settings.build_dir) as work:
            before = locate(release.since, settings.root, settings.dist, Path(work)) if release.since else None
            changes = change_rows(before, folder)
    return write_site(release, changes, docs)
