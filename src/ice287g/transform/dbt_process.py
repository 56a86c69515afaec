"""A dbt process started before it is needed: it imports dbt at once, then runs the commands its
parent writes to its stdin (a JSON list of arguments a line), one at a time, and answers each with
a JSON line: the command's exit code and the nodes that failed.

A ``parse`` keeps the project it parsed, and the commands after it run on that project: a build
parses once (while the workbooks are read), and its models and its tests then run in this one
process, where two processes each imported dbt (about 1 s) and read the saved parse again (about
1 s). The database is closed at the end of every command, so the parent may read it between two.
"""

from __future__ import annotations

import json
import os
import sys

from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner


def failures(result) -> list[dict]:
    """The failed nodes of a dbt result, with what the parent needs to show their rows."""
    failed = []
    for node in getattr(result.result, "results", None) or []:
        if node.status in ("error", "fail"):  # dbt's statuses are strings: a model's or a test's
            failed.append(
                {
                    "unique_id": node.node.unique_id,
                    "message": node.message,
                    "failures": node.failures,
                    "compiled_code": getattr(node.node, "compiled_code", None),
                }
            )
    return failed


def main() -> int:
    # dbt may print to stdout: the answers go on a descriptor of their own, stdout to stderr
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    manifest = None
    for line in sys.stdin:
        args = json.loads(line)
        result = dbtRunner(manifest=manifest).invoke(args)
        if args[0] == "parse" and result.success:
            manifest = result.result
        # dbt-duckdb keeps the database open between commands of one process (its environment is
        # a class attribute): closed here, so that the parent may read it before the next command
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
        # the dbt command's exit codes: 0 passed, 1 a node failed, 2 dbt could not run
        code = 0 if result.success else 2 if result.exception is not None else 1
        answers.write(json.dumps({"code": code, "failures": failures(result)}) + "\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
