"""Run the pipeline end to end on working copies, and put results in place only if every step passed.

sources -> store -> raw tables -> dbt -> Great Expectations -> data package. One build at a time
holds the checkout's lock (``build/.lock``). A failure at any step, or a kill, leaves
``build/ice287g.duckdb``, the validation report, the review files and every published version
in ``dist/`` as they were; the next build removes what a killed one left.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import duckdb
import pandas as pd

from ice287g import PACKAGE_NAME
from ice287g.consume.versions import version_for
from ice287g.errors import InputError, ProjectError
from ice287g.pipeline import fingerprint
from ice287g.pipeline.lock import checkout_lock
from ice287g.publish.changes import change_rows
from ice287g.publish.committed import (
    ReleaseTransaction,
    changelog_entry,
    check_index,
    committed_version,
    index_entry,
    recover,
    release_version,
    released_rows,
    write_release,
)
from ice287g.publish.package import assemble, publish
from ice287g.publish.readme import write_release_texts
from ice287g.publish.site.page import publish_site
from ice287g.raw.rawload import LoadReport, load_raw
from ice287g.raw.reference_tables import load_references
from ice287g.settings import Settings
from ice287g.sources.registry import Registry
from ice287g.sources.store import Store, resolve
from ice287g.transform.dbt import Dbt
from ice287g.transform.project import var
from ice287g.util.csvfile import write_atomically
from ice287g.validate import match_rates as geography
from ice287g.validate.gate import ValidationFailed, check_frames, validate
from ice287g.validate.schema import RESOURCES, ResourceSchema, load_manifest, resource_schemas
from ice287g.validate.suites import plan, relationship_targets


@dataclass
class BuildResult:
    load: LoadReport
    database: Path
    version: str
    package: Path
    is_new_version: bool
    descriptor: dict
    # seconds spent in each stage: resolve, read, dbt, validate, package (read by the benchmark)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    # the warnings the build said (damaged store copies set aside), for a summary
    warnings: list[str] = field(default_factory=list)
    # True when nothing the build reads had changed and the last build's outputs were reused
    is_reused: bool = False


def resolve_all(settings: Settings, registry: Registry, say: Callable[[str], None] = print) -> dict[str, Path]:
    """A verified path for every registered file; one error listing every file that failed.
    ``say`` hears a warning for each damaged store copy set aside."""
    store = Store(settings.store)
    paths, problems = {}, []
    for entry in registry:
        try:
            paths[entry.file_sha256] = resolve(entry, store, settings.mirror, settings.offline, say)
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
    return [f"seeds/{table}.csv: the fix for {value!r} matches nothing" for table, value in rows]


def undecided_pairs(database: Path) -> list[str]:
    """Close agency spellings the rules left apart that no reviewed verdict decides, as lines."""
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select state_code, name_a, name_b from int_agency_review_pairs where verdict is null order by all"
        ).fetchall()
    return [f"{state}: {a!r} / {b!r}" for state, a, b in rows]


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


def write_review_files(con: duckdb.DuckDBPyConnection, folder: Path) -> list[Path]:
    """CSVs for maintainers: close agency spellings the rules left apart, and the evidence for every
    removal, supersession and withdrawal (its last list and the best candidate successor)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, query in REVIEW_FILES.items():
        target = folder / name
        con.execute(f"copy ({query}) to '{target.as_posix()}' (format csv, header true)")
        written.append(target)
    return written


WORK = ".work"


def remove_stale_work(build_dir: Path) -> list[Path]:
    """Remove the work folder (``.work``, and the ``.work-<pid>`` of earlier code) of a build that
    was killed: safe only under the build lock, which no other build then holds."""
    stale = sorted(build_dir.glob(f"{WORK}*"))
    for folder in stale:
        if folder.is_symlink() or not folder.is_dir():
            folder.unlink()  # a link in the work folder's place is removed, never followed
        else:
            shutil.rmtree(folder)
    return stale


def compact(database: Path) -> None:
    """Rewrite ``database`` into a fresh file: DuckDB reuses the blocks that dbt's rebuilt tables
    free but never gives them back, so a rebuild on a copy of the previous database doubled its
    size (CHECKPOINT and VACUUM do not shrink it); COPY FROM DATABASE writes only what is live."""
    fresh = database.with_name(f"compact-{database.name}")
    fresh.unlink(missing_ok=True)
    with duckdb.connect(str(database)) as con:
        (name,) = con.execute("select current_database()").fetchone()
        con.execute(f"attach '{fresh.as_posix()}' as compacted")
        con.execute(f'copy from database "{name}" to compacted')
        con.execute("detach compacted")
    os.replace(fresh, database)


def _replace_folder(source: Path, target: Path, trash: Path) -> None:
    """Put the folder ``source`` at ``target``; the old one goes to ``trash`` (in the work folder,
    removed with it), so a kill between the two renames leaves no half-written folder."""
    if target.exists():
        os.replace(target, trash)
    os.replace(source, target)


def build(
    settings: Settings,
    say: Callable[[str], None] = print,
    today: dt.date | None = None,
    reuse: bool = False,
) -> BuildResult:
    """Build the database and the package version it implies, under the build lock; see the module
    docstring. With ``reuse``, a build whose inputs are those of the last successful build, whose
    outputs are all still as it left them, reuses them (``ice287g.pipeline.fingerprint``)."""
    with checkout_lock(settings):
        return _build(settings, say, today, reuse)


def _reused(settings: Settings, previous: dict, seconds: dict[str, float], say: Callable[[str], None]) -> BuildResult:
    """The result of the last build, whose outputs ``fingerprint.reusable`` has just checked."""
    version = previous["version"]
    folder = settings.dist / version
    say(
        f"nothing this build reads has changed since the last build of {PACKAGE_NAME} {version}, and its outputs "
        "are as it left them: reused (dbt, validation and packaging skipped; `ice287g build --rebuild` runs them)"
    )
    warnings = previous["summary"]["warnings"]
    for warning in warnings:
        say(warning)
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    load = LoadReport(**previous["summary"]["load"])
    return BuildResult(load, settings.database, version, folder, False, descriptor, seconds, warnings, True)


# dbt in two steps, so that its data tests run beside Great Expectations (see _build).
# Each check runs in one gate: the tests that models/marts/_marts.yml states of the published tables
# run as the Great Expectations suites generated from them (ice287g.validate.suites), so dbt's test step
# leaves them out and runs the rest (staging, intermediate, review, seeds). The unit tests check the
# rules' SQL, not the data: as dbt advises, they run in development and CI (`make test`, once), not
# in every build.
# --full-refresh: a seed is recreated from its CSV; without it dbt reloads it into the table the
# last build made, so a seed whose columns changed (a reviewed fix re-keyed) fails the next build
DBT_MODELS = ["build", "--full-refresh", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
PUBLISHED_MODELS = "path:models/marts"
DBT_TESTS = ["test", "--exclude", PUBLISHED_MODELS, "--exclude-resource-type", "unit_test"]


def gate_frames(database: Path, manifest: dict) -> dict[str, pd.DataFrame]:
    """The tables the Great Expectations gate reads, from the built ``database``: the published
    ones and those their relationship tests point at (seeds included)."""
    with duckdb.connect(str(database), read_only=True) as con:
        tables = sorted(set(RESOURCES) | relationship_targets(manifest))
        return {name: con.execute(f"select * from {name}").df() for name in tables}


def _build(settings: Settings, say: Callable[[str], None], today: dt.date | None, reuse: bool) -> BuildResult:
    warnings: list[str] = []

    def tell(message: str) -> None:
        if message.startswith("warning: "):
            warnings.append(message)
        say(message)

    for stale in remove_stale_work(settings.build_dir):
        tell(f"removed {stale}, left by an interrupted build")
    if recovered := recover(settings.release):
        tell(recovered)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] = now - clock
        clock = now

    registry = Registry.load(settings.registry)
    if not len(registry):
        raise InputError(str(settings.registry), "no snapshots registered: run `ice287g sources seed` or `ice287g add`")
    tell(f"resolving {len(registry)} registered snapshots")
    paths = resolve_all(settings, registry, tell)
    lap("resolve")
    digest = fingerprint.input_digest(settings)
    previous = fingerprint.reusable(settings, digest) if reuse else None
    lap("reuse")
    if previous:
        return _reused(settings, previous, seconds, tell)

    work = Work.create(settings)
    # one dbt process imports dbt and parses the project now, while the workbooks are read; its
    # models and then its tests run on that parse
    dbt = Dbt(settings.root, work.database, settings.build_dir)
    dbt.start(["parse"])
    try:
        loaded = _read(settings, registry, paths, work, tell)
        lap("read")
        manifest, schemas, frames = _transform(settings, dbt, work, tell)
        lap("dbt")
        _gate(settings, dbt, manifest, frames, work, len(registry), today, tell)
        lap("validate")
        staged, descriptor, reviews = _package(settings, work, schemas, frames)
        version = descriptor["version"]
        folder, is_new = _put_in_place(settings, work, staged, version, reviews, tell)
        fingerprint.record(settings, digest, version, {"load": asdict(loaded), "warnings": warnings})
        lap("package")
    except (duckdb.IOException, duckdb.OutOfMemoryException) as exc:
        # a full or read-only disk, or too little memory: the machine's refusal, said as one line
        raise InputError(str(work.database), f"DuckDB could not go on ({type(exc).__name__}: {exc})") from exc
    finally:
        # no dbt may outlive the build: it would hold the work database, which is removed next
        dbt.stop()
        shutil.rmtree(work.folder, ignore_errors=True)
    return BuildResult(loaded, settings.database, version, folder, is_new, descriptor, seconds, warnings)


@dataclass(frozen=True)
class Work:
    """The build's work folder. Everything is written here and moved into place only once every
    step passed: a failed or killed build leaves the database, the validation report, the review
    files and every published version as they were. One fixed name, not one per process (the lock
    admits one build): dbt's profile points at the database in it, and a path that changed with
    every build made dbt parse the project afresh."""

    folder: Path
    database: Path
    report: Path

    @classmethod
    def create(cls, settings: Settings) -> Work:
        folder = settings.build_dir / WORK
        folder.mkdir()
        write_atomically(folder / "pid", f"{os.getpid()}\n".encode())
        return cls(folder, folder / settings.database.name, folder / "validation")


def _read(
    settings: Settings, registry: Registry, paths: dict[str, Path], work: Work, tell: Callable[[str], None]
) -> LoadReport:
    """The raw layer: the last build's database, with the files it has not read yet and the
    reference tables loaded into it."""
    if settings.database.exists():
        shutil.copy2(settings.database, work.database)
    with duckdb.connect(str(work.database)) as con:
        loaded = load_raw(
            con, registry, lambda entry: paths[entry.file_sha256], settings.root / "sources" / "layouts.csv", tell
        )
        references = load_references(con, settings)
    tell(f"raw layer: {loaded.files_read} new file(s) read, {loaded.rows_total:,} data rows in all")
    tell("reference tables: " + ", ".join(f"{table} ({rows:,} rows)" for table, rows in references.items()))
    return loaded


def _transform(
    settings: Settings, dbt: Dbt, work: Work, tell: Callable[[str], None]
) -> tuple[dict, list[ResourceSchema], dict[str, pd.DataFrame]]:
    """dbt's seeds and models; then the reviewed fixes' use, and the manifest with the published
    tables' schemas (a mart the YAML does not describe, or a type it cannot publish, stops here) and
    the frames the gate reads."""
    tell("dbt: seeds and models")
    dbt.run(DBT_MODELS)
    if stale := stale_fixes(work.database):
        if settings.judges_fixes:
            raise ProjectError(
                "seeds",
                "reviewed fixes that match nothing in the archive they were read against (a rule "
                "or the fix went wrong: mend or remove each):\n" + "\n".join(f"  {line}" for line in stale),
            )
        tell(f"note: {len(stale)} reviewed fix(es) match nothing in this registry, not the project's own")
    if undecided := undecided_pairs(work.database):
        tell(
            f"review: {len(undecided)} close agency pair(s) await a verdict (seeds/agency_pair_verdicts.csv, "
            "or seeds/fix_agency_names.csv if one agency; evidence in build/review/agency_review_pairs.csv):\n"
            + "\n".join(f"  {line}" for line in undecided)
        )
    else:
        tell("review: every close agency pair the rules left apart has a verdict")
    manifest = load_manifest(settings.build_dir / "dbt" / "target" / "manifest.json")
    return manifest, resource_schemas(manifest), gate_frames(work.database, manifest)


def _gate(
    settings: Settings,
    dbt: Dbt,
    manifest: dict,
    frames: dict[str, pd.DataFrame],
    work: Work,
    registered: int,
    today: dt.date | None,
    tell: Callable[[str], None],
) -> None:
    """dbt's data tests and Great Expectations, which read the same finished tables, one in dbt's
    process and one in this: run side by side, they take the time of the slower. dbt's failures
    are said first; a failed report is kept beside the last good one, which stays in place."""
    tell("dbt tests and Great Expectations, side by side")
    dbt.start(DBT_TESTS)
    failure = None
    try:
        validate(
            plan(manifest, frames, settings.root / "expectations", check_frames(frames)),
            work.report,
            validation_parameters(settings, registered, today or dt.datetime.now(dt.UTC).date()),
        )
    except ValidationFailed as exc:
        failure = exc  # raised once dbt's tests have had their say: dbt's failures come first
    dbt.finish()
    if failure:
        failed = settings.build_dir / "validation-failed"
        _replace_folder(work.report, failed, work.folder / "validation-failed-before")
        raise ValidationFailed(failure.subject, failure.problem.replace(str(work.report), str(failed)))
    compact(work.database)
    for line in match_rates_lines(frames):
        tell(line)


def _package(
    settings: Settings, work: Work, schemas: list[ResourceSchema], frames: dict[str, pd.DataFrame]
) -> tuple[Path, dict, list[Path]]:
    """The version staged in the work folder (its descriptor, from the last release's version and
    changelog) and the review files; a version already released with other bytes is refused here."""
    base = version_for(frames["publications"]["published_date"].max().date())
    staged = work.folder / "dist" / "package"
    staged.mkdir(parents=True)
    with duckdb.connect(str(work.database), read_only=True) as con:
        descriptor = assemble(
            con,
            schemas,
            staged,
            lambda folder: release_version(settings.release, base, folder),
            work.report / "validation.json",
            lambda folder, version: changelog_entry(settings.release, folder, version, settings.root),
        )
        reviews = write_review_files(con, work.folder / "review")
    check_index(settings.release, index_entry(staged, zip_sha256=""))
    return staged, descriptor, reviews


def _put_in_place(
    settings: Settings, work: Work, staged: Path, version: str, reviews: list[Path], tell: Callable[[str], None]
) -> tuple[Path, bool]:
    """Publish the staged version, then move the database, the report and the review files into place."""
    folder, is_new = publish(staged, settings.dist, version)
    tell(f"{'published' if is_new else 'unchanged, already published:'} {PACKAGE_NAME} {version} in {folder}")
    os.replace(work.database, settings.database)
    _replace_folder(work.report, settings.build_dir / "validation", work.folder / "validation-before")
    (settings.build_dir / "review").mkdir(exist_ok=True)
    for review in reviews:
        target = settings.build_dir / "review" / review.name
        os.replace(review, target)
        tell(f"for review: {target}")
    return folder, is_new


def write_committed_release(settings: Settings, result: BuildResult) -> list[str]:
    """Make the built version the committed release (data/, datapackage.json, releases.csv,
    CHANGELOG.md and the page in docs/, in settings.release) and refresh the texts that follow it
    (CITATION.cff, .zenodo.json, the README's generated parts), all as one unit (a kill or a full
    disk leaves the release as it was, or the next command finishes it); returns the paths that
    changed."""
    zip_name = f"{PACKAGE_NAME}-{result.version}.zip"
    with checkout_lock(settings):
        written = result.is_reused and fingerprint.release_is_written(settings)
        with ReleaseTransaction(settings.release, result.version) as staged:
            if not written:
                zip_sha256 = (settings.dist / f"{zip_name}.sha256").read_text().split()[0]
                since = committed_version(staged.folder)
                # compared before the release is replaced: the page shows what changed since the one before
                changes = (
                    change_rows(staged.folder if since else None, result.package) if since != result.version else None
                )
                write_release(staged.folder, result.package, zip_sha256)
                publish_site(replace(settings, release_dir=staged.folder), result.package, changes)
            # read from the committed release alone, so refreshed even when the build was reused
            write_release_texts(settings.root, staged.folder)
        if not written:
            fingerprint.note_release_written(settings, result.version)
        return staged.changed


def build_release(
    settings: Settings, say: Callable[[str], None] = print, reuse: bool = True, today: dt.date | None = None
) -> tuple[BuildResult, list[str]]:
    """Build, then write the committed release, under one hold of the build lock (no other build
    slips in between): what `ice287g build` does, and the one way the CLI, `release`, the bench and
    the tests run it. The build's result (its stages timed, the release's writing as "release") and
    the release paths that changed."""
    with checkout_lock(settings):
        result = build(settings, say=say, today=today, reuse=reuse)
        clock = time.perf_counter()
        changed = write_committed_release(settings, result)
        result.stage_seconds["release"] = time.perf_counter() - clock
        return result, changed
