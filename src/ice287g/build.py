"""Run the pipeline end to end on a working copy, and put it in place only if every step passed.

sources -> store -> raw tables -> dbt. A failure at any step leaves ``build/ice287g.duckdb``
(and everything published) exactly as it was.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ice287g.dbt import run_dbt
from ice287g.errors import InputError
from ice287g.rawload import LoadReport, load_raw
from ice287g.registry import Entry, Registry
from ice287g.settings import Settings
from ice287g.store import Store, resolve


@dataclass
class BuildResult:
    load: LoadReport
    database: Path


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


def build(settings: Settings, say: Callable[[str], None] = print) -> BuildResult:
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
                con,
                registry,
                lambda entry: _path(paths, entry),
                settings.root / "sources" / "layouts.csv",
                say,
            )
        say(f"raw layer: {report.files_read} new file(s) read, {report.rows_total:,} data rows in all")
        say("dbt build")
        run_dbt(settings.root, work_db, settings.build_dir, ["build"])
        for warning in stale_fixes(work_db):
            say(f"warning: {warning}")
        os.replace(work_db, settings.database)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BuildResult(report, settings.database)


def stale_fixes(database: Path) -> list[str]:
    """Reviewed fixes that matched nothing in this build, as readable lines."""
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select fix_table, fixed_value from int_fix_usage where match_count = 0 order by all"
        ).fetchall()
    return [f"seeds/{table}.csv: the fix for {value!r} matches nothing (stale?)" for table, value in rows]


def _path(paths: dict[str, Path], entry: Entry) -> Path:
    return paths[entry.file_sha256]
