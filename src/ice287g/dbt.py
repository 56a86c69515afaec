"""Run dbt against a given DuckDB file, in its own process, with artefacts kept under build/.

A separate process means dbt's connection is closed (and DuckDB checkpointed) when it returns,
so the caller can move the database file into place safely.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from ice287g.errors import ProjectError


def prepare_dbt(database: Path) -> subprocess.Popen:
    """A dbt process for ``database``, started now, that imports dbt and waits for the command
    ``start_dbt`` gives it (``ice287g.dbt_process``)."""
    # dbt runs in the database's folder and its profile names the file alone: a profile that held
    # the absolute path changed with every build folder, and dbt then parsed the project afresh
    # (about 9 s) where a copied target, or a saved parse, would have served
    env = {
        **os.environ,
        "ICE287G_DB": database.name,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_NO_VERSION_CHECK": "True",
    }
    database.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "ice287g.dbt_process"], cwd=database.parent, env=env, stdin=subprocess.PIPE
    )


def start_dbt(
    root: Path, database: Path, build_dir: Path, args: list[str], prepared: subprocess.Popen | None = None
) -> subprocess.Popen:
    """Start ``dbt <args>`` on ``database`` (in ``prepared``, a process of ``prepare_dbt`` for
    it, or a new one) and return at once; ``finish_dbt`` waits for it."""
    build_dir, root = build_dir.absolute(), root.absolute()
    target = build_dir / "dbt" / "target"
    command = [
        *args,
        "--project-dir",
        str(root),
        "--profiles-dir",
        str(root),
        "--target-path",
        str(target),
        "--log-path",
        str(build_dir / "dbt" / "logs"),
        "--no-use-colors",
        "--quiet",
    ]
    process = prepared or prepare_dbt(database)
    process.stdin.write((json.dumps(command) + "\n").encode())
    process.stdin.close()
    return process


def stop_dbt(process: subprocess.Popen) -> None:
    """Stop a dbt process that may still run (a failed build's): none may outlive the build."""
    if process.poll() is None:
        process.kill()
    process.wait()
    if process.stdin:
        process.stdin.close()


EXAMPLES = 3  # failing rows shown for each failed test


def finish_dbt(process: subprocess.Popen, build_dir: Path, args: list[str], database: Path | None = None) -> None:
    """Wait for a dbt started by ``start_dbt``; raises ProjectError listing every failed node,
    with a few of a failed test's rows from ``database`` (and the workbook a row comes from)."""
    if process.wait() == 0:
        return
    failures = []
    results = build_dir / "dbt" / "target" / "run_results.json"
    if results.exists():
        for node in json.loads(results.read_text()).get("results", []):
            if node.get("status") in ("error", "fail", "runtime error"):
                shown = _examples(database, node.get("compiled_code")) if database and node.get("failures") else ""
                failures.append(f"{node['unique_id']}: {node.get('message')}{shown}")
    detail = "; ".join(failures) or f"exit code {process.returncode}, see {build_dir / 'dbt' / 'logs' / 'dbt.log'}"
    raise ProjectError(f"dbt {' '.join(args)}", detail)


def _examples(database: Path, code: str | None) -> str:
    """`` (e.g. <row>; <row>)``: the first rows a failed test's query returns, each with the
    workbook it comes from when a column names a publication, a listing or a file."""
    if not code:
        return ""
    try:
        with duckdb.connect(str(database), read_only=True) as con:
            cursor = con.execute(f"select * from ({code}) as failing limit {EXAMPLES}")
            columns = [d[0] for d in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            return " (e.g. " + "; ".join(_row(con, row) for row in rows) + ")" if rows else ""
    except duckdb.Error:  # the rows are a courtesy: the failure is said either way
        return ""


def _row(con: duckdb.DuckDBPyConnection, row: dict) -> str:
    shown = ", ".join(f"{name}={_short(value)}" for name, value in row.items())
    for name, value in row.items():
        if value is None:
            continue
        if name == "file_sha256":
            where = "select file_name from snapshots where file_sha256 = ?"
        elif name.endswith("publication_id") or name == "listing_id":
            value = str(value).split("#")[0]
            where = "select file_name from snapshots where publication_id = ? and is_first_snapshot"
        else:
            continue
        found = con.execute(where, [value]).fetchall()
        if found:
            return f"{shown} [in {found[0][0]}]"
    return shown


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def run_dbt(
    root: Path, database: Path, build_dir: Path, args: list[str], *, prepared: subprocess.Popen | None = None
) -> None:
    """``dbt <args>`` on ``database`` (in ``prepared``, as ``start_dbt``); raises ProjectError
    listing every failed node."""
    finish_dbt(start_dbt(root, database, build_dir, args, prepared), build_dir, args, database)
