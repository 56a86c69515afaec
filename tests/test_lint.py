"""The code style the project holds itself to: ruff for Python, sqlfluff (duckdb) for dbt SQL."""

import subprocess
import sys
from pathlib import Path

from conftest import REPO

BIN = Path(sys.executable).parent


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=False)


def test_python_is_ruff_clean():
    result = run(str(BIN / "ruff"), "check", "src", "tests")
    assert result.returncode == 0, result.stdout + result.stderr
    result = run(str(BIN / "ruff"), "format", "--check", "src", "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_sql_is_sqlfluff_clean():
    result = run(str(BIN / "sqlfluff"), "lint", "models", "macros", "tests/dbt")
    assert result.returncode == 0, result.stdout + result.stderr
