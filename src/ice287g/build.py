"""Run the pipeline end to end on working copies, and put results in place only if every step passed.

sources -> store -> raw tables -> dbt -> Great Expectations -> data package. A failure at any
step leaves ``build/ice287g.duckdb`` and every published version in ``dist/`` as they were.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from ice287g import PACKAGE_NAME, geography
from ice287g.changes import change_rows
from ice287g.committed import (
    changelog_entry,
    check_index,
    committed_version,
    index_entry,
    released_rows,
    write_release,
)
from ice287g.dbt import run_dbt
from ice287g.errors import InputError
from ice287g.package import assemble, publish, version_for
from ice287g.project import var
from ice287g.rawload import LoadReport, load_raw
from ice287g.references import load_references
from ice287g.registry import Registry
from ice287g.schema import RESOURCES, load_manifest, resource_schemas
from ice287g.settings import Settings
from ice287g.site import publish_site
from ice287g.store import Store, resolve
from ice287g.suites import plan, relationship_targets
from ice287g.validate import check_frames, validate


@dataclass
class BuildResult:
    load: LoadReport
    database: Path
    version: str
    package: Path
    is_new_version: bool
    descriptor: dict


def resolve_all(settings: Settings, registry: Registry) -> dict[str, Path]:
    """A verified path for every registered file; one error listing every file that failed."""
    store = Store(settings.store)
    paths, problems = {}, []
    for entry in registry:
        try:
            paths[entry.file_sha256] = resolve(entry, store, settings.mirror, settings.offline)
        except InputError as exc:
            problems.append(str(exc))
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise InputError(str(settings.registry), f"{len(problems)} registered file(s) unusable:\n  {shown}{more}")
    return paths


def stale_fixes(database: Path) -> list[str]:
    """Reviewed fixes that matched nothing in this build, as readable lines."""
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select fix_table, fixed_value from int_fix_usage where match_count = 0 order by all"
        ).fetchall()
    return [f"seeds/{table}.csv: the fix for {value!r} matches nothing (stale?)" for table, value in rows]


# A table may lose at most this share of its rows from one release to the next: more means a rule
# or a fix went wrong, and the bound in expectations/<table>.json must be changed on purpose.
MAX_ROW_LOSS = 0.1


def validation_parameters(settings: Settings, registered_files: int, today: dt.date) -> dict:
    """The run-time values the suites refer to as {"$PARAMETER": name}."""
    parameters = {
        "registered_files": registered_files,
        "earliest_date": pd.Timestamp(var(settings.root, "program_start_date")),
        "latest_time": pd.Timestamp(today) + pd.Timedelta(days=1),
    }
    previous = released_rows(settings.release)
    for name in RESOURCES:
        parameters[f"{name}_min_rows"] = int(previous.get(name, 0) * (1 - MAX_ROW_LOSS))
    return parameters


def match_rates_lines(frames: dict[str, pd.DataFrame]) -> list[str]:
    """The geography match rates of this build, as lines to print."""
    return geography.rates_lines(geography.match_rates(frames["agencies"], frames["agreements"]))


REVIEW_FILES = {
    "agency_review_pairs.csv": "select * from int_agency_review_pairs order by state_code, name_a, name_b",
    "lineage_review.csv": "select * from review_lineage order by kind, claim, state_code, claim_id",
    "agency_geography_review.csv": "select * from review_agency_geography order by all",
}


def write_review_files(database: Path, folder: Path) -> list[Path]:
    """CSVs for maintainers: close agency spellings the rules left apart, and the evidence for every
    removal, supersession and withdrawal (its last list and the best candidate successor)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with duckdb.connect(str(database), read_only=True) as con:
        for name, query in REVIEW_FILES.items():
            target = folder / name
            con.execute(f"copy ({query}) to '{target.as_posix()}' (format csv, header true)")
            written.append(target)
    return written


def build(
    settings: Settings,
    say: Callable[[str], None] = print,
    today: dt.date | None = None,
) -> BuildResult:
    """Build the database and the package version it implies; see the module docstring."""
    registry = Registry.load(settings.registry)
    if not len(registry):
        raise InputError(str(settings.registry), "no snapshots registered: run `ice287g sources seed` or `ice287g add`")
    say(f"resolving {len(registry)} registered snapshots")
    paths = resolve_all(settings, registry)

    settings.build_dir.mkdir(parents=True, exist_ok=True)
    work = settings.build_dir / f".work-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    work_db = work / settings.database.name
    try:
        if settings.database.exists():
            shutil.copy2(settings.database, work_db)
        with duckdb.connect(str(work_db)) as con:
            report = load_raw(
                con, registry, lambda entry: paths[entry.file_sha256], settings.root / "sources" / "layouts.csv", say
            )
            references = load_references(con, settings)
        say(f"raw layer: {report.files_read} new file(s) read, {report.rows_total:,} data rows in all")
        say("reference tables: " + ", ".join(f"{table} ({rows:,} rows)" for table, rows in references.items()))
        say("dbt build")
        run_dbt(settings.root, work_db, settings.build_dir, ["build"])
        for warning in stale_fixes(work_db):
            say(f"warning: {warning}")
        manifest = load_manifest(settings.build_dir / "dbt" / "target" / "manifest.json")
        schemas = resource_schemas(manifest)

        with duckdb.connect(str(work_db), read_only=True) as con:
            tables = sorted(set(RESOURCES) | relationship_targets(manifest))
            frames = {name: con.execute(f"select * from {name}").df() for name in tables}
        say("validating with Great Expectations")
        validate(
            plan(manifest, frames, settings.root / "expectations", check_frames(frames)),
            settings.build_dir / "validation",
            validation_parameters(settings, len(registry), today or dt.datetime.now(dt.UTC).date()),
        )
        for line in match_rates_lines(frames):
            say(line)
        newest = frames["publications"]["published_date"].max().date()
        version = version_for(newest)
        staged = work / "dist" / version
        staged.mkdir(parents=True)
        with duckdb.connect(str(work_db), read_only=True) as con:
            descriptor = assemble(
                con,
                schemas,
                staged,
                version,
                settings.build_dir / "validation" / "validation.json",
                lambda folder: changelog_entry(settings.release, folder, version, settings.root),
            )
        # a released version never changes: refuse before anything is published
        check_index(settings.release, index_entry(staged, zip_sha256=""))
        folder, is_new = publish(staged, settings.dist, version)
        say(f"{'published' if is_new else 'unchanged, already published:'} {PACKAGE_NAME} {version} in {folder}")
        os.replace(work_db, settings.database)
        for review in write_review_files(settings.database, settings.build_dir / "review"):
            say(f"for review: {review}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BuildResult(report, settings.database, version, folder, is_new, descriptor)


def write_committed_release(settings: Settings, result: BuildResult) -> list[str]:
    """Make the built version the committed release (data/, datapackage.json, releases.csv,
    CHANGELOG.md and the page in docs/, in settings.release); returns the paths that changed."""
    zip_name = f"{PACKAGE_NAME}-{result.version}.zip"
    zip_sha256 = (settings.dist / f"{zip_name}.sha256").read_text().split()[0]
    since = committed_version(settings.release)
    # compared before the release is replaced: the page shows what changed since the one before
    changes = change_rows(settings.release if since else None, result.package) if since != result.version else None
    changed = write_release(settings.release, result.package, zip_sha256)
    return changed + publish_site(settings, result.package, changes)
