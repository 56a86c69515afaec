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

from ice287g.errors import ProjectError


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def start_dbt(root: Path, database: Path, build_dir: Path, args: list[str], quiet: bool = True) -> subprocess.Popen:
    """Start ``dbt <args>`` on ``database`` and return at once; ``finish_dbt`` waits for it."""
    target = build_dir / "dbt" / "target"
    env = {
        **os.environ,
        "ICE287G_DB": str(database),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_NO_VERSION_CHECK": "True",
    }
    command = [
        dbt_executable(),
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
    ]
    if quiet:
        command.append("--quiet")
    return subprocess.Popen(command, cwd=root, env=env)


def finish_dbt(process: subprocess.Popen, build_dir: Path, args: list[str]) -> None:
    """Wait for a dbt started by ``start_dbt``; raises ProjectError listing every failed node."""
    if process.wait() == 0:
        return
    failures = []
    results = build_dir / "dbt" / "target" / "run_results.json"
    if results.exists():
        for node in json.loads(results.read_text()).get("results", []):
            if node.get("status") in ("error", "fail", "runtime error"):
                failures.append(f"{node['unique_id']}: {node.get('message')}")
    detail = "; ".join(failures) or f"exit code {process.returncode}, see {build_dir / 'dbt' / 'logs' / 'dbt.log'}"
    raise ProjectError(f"dbt {' '.join(args)}", detail)


def run_dbt(root: Path, database: Path, build_dir: Path, args: list[str], quiet: bool = True) -> None:
    """``dbt <args>`` on ``database``; raises ProjectError listing every failed node."""
    finish_dbt(start_dbt(root, database, build_dir, args, quiet), build_dir, args)
