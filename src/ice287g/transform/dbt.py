"""Run dbt against a given DuckDB file, in a process of its own, with artefacts kept under build/.

The database is closed (and DuckDB checkpointed) at the end of each command, and the process
ends with the build, so the caller can read the database between commands and move the file into
place safely.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from ice287g.errors import ProjectError


class Dbt:
    """One dbt process for ``database``, started now: it imports dbt at once and runs the commands
    it is given, in order (``ice287g.transform.dbt_process``); after a ``parse``, on the project parsed."""

    def __init__(self, root: Path, database: Path, build_dir: Path):
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
        self.database, self.build_dir = database, build_dir.absolute()
        root = root.absolute()
        self.common = [
            "--project-dir",
            str(root),
            "--profiles-dir",
            str(root),
            "--target-path",
            str(self.build_dir / "dbt" / "target"),
            "--log-path",
            str(self.build_dir / "dbt" / "logs"),
            "--no-use-colors",
            "--quiet",
        ]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ice287g.transform.dbt_process"],
            cwd=database.parent,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.pending: list[list[str]] = []

    def start(self, args: list[str]) -> None:
        """Give ``dbt <args>`` to the process and return at once; ``finish`` waits for it."""
        self.process.stdin.write((json.dumps([*args, *self.common]) + "\n").encode())
        self.process.stdin.flush()
        self.pending.append(args)

    def finish(self) -> None:
        """Wait for every command started; raises ProjectError for the first that failed, listing
        each failed node with a few of a failed test's rows (and the workbook a row comes from)."""
        while self.pending:
            args = self.pending.pop(0)
            line = self.process.stdout.readline()
            answer = json.loads(line) if line else {"code": self.process.wait(), "failures": []}
            if answer["code"] != 0:
                raise ProjectError(f"dbt {' '.join(args)}", failure_detail(answer, self.build_dir, self.database))

    def run(self, args: list[str]) -> None:
        self.start(args)
        self.finish()

    def stop(self) -> None:
        """Stop the process: it ends once its input is closed, or is killed if a command still runs
        (a failed build's): none may outlive the build."""
        self.process.stdin.close()
        if self.pending and self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.process.stdout.close()


EXAMPLES = 3  # failing rows shown for each failed test


def failure_detail(answer: dict, build_dir: Path, database: Path | None = None) -> str:
    """The failed nodes of a dbt process's answer, each with a few of a failed test's rows."""
    failures = []
    for node in answer["failures"]:
        shown = _examples(database, node.get("compiled_code")) if database and node.get("failures") else ""
        failures.append(f"{node['unique_id']}: {node.get('message')}{shown}")
    return "; ".join(failures) or f"exit code {answer['code']}, see {build_dir / 'dbt' / 'logs' / 'dbt.log'}"


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
        elif name.endswith("publication_id") or name in ("listing_id", "publication_row_id"):
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


def run_dbt(root: Path, database: Path, build_dir: Path, args: list[str]) -> None:
    """``dbt <args>`` on ``database``, in a process of its own; raises ProjectError listing every
    failed node."""
    dbt = Dbt(root, database, build_dir)
    try:
        dbt.run(args)
    finally:
        dbt.stop()
