"""A dbt process started before it is needed: it imports dbt at once, then runs the one command
its parent writes to its stdin (a JSON list of arguments) and exits with dbt's outcome.

Importing dbt takes about 3 s, twice a build (models, then tests). Started at the beginning of a
build, the two processes import while the workbooks are read and the models run. Each runs one
command in a process of its own, so its DuckDB connection is closed when it returns, as before.
"""

from __future__ import annotations

import json
import sys

from dbt.cli.main import dbtRunner


def main() -> int:
    line = sys.stdin.readline()
    if not line:
        return 0  # the build ended before it needed this process
    result = dbtRunner().invoke(json.loads(line))
    # the dbt command's exit codes: 0 passed, 1 a node failed, 2 dbt could not run
    if result.success:
        return 0
    return 2 if result.exception is not None else 1


if __name__ == "__main__":
    sys.exit(main())
