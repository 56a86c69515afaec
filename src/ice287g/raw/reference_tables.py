"""The registered reference tables (``sources/references.csv``) loaded into DuckDB as raw tables,
every column text, as published."""

from __future__ import annotations

import duckdb

from ice287g.settings import Settings
from ice287g.sources.references import load_registry, resolve_references


def load_references(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, int]:
    """Create ``raw_<name>`` for every CSV reference (all columns text, as published) and
    ``raw_references`` (name, file_sha256, file_name, rows); returns rows per created table."""
    references = load_registry(settings.reference_registry)
    paths = resolve_references(settings, references)
    counts: dict[str, int] = {}
    for reference in references:
        if reference.table is None:
            continue
        con.execute(
            f"create or replace table {reference.table} as "
            "select * from read_csv(?, all_varchar = true, header = true, delim = ',', quote = '\"')",
            [str(paths[reference.name])],
        )
        counts[reference.table] = con.execute(f"select count(*) from {reference.table}").fetchone()[0]
    con.execute(
        'create or replace table raw_references (name varchar, file_sha256 varchar, file_name varchar, "rows" bigint)'
    )
    con.executemany(
        "insert into raw_references values (?, ?, ?, ?)",
        [[r.name, r.file_sha256, r.file_name, counts.get(r.table) if r.table else None] for r in references],
    )
    return counts
