"""Load registered workbooks into DuckDB's raw tables, incrementally, with no cleaning.

``raw_files`` mirrors the registry; ``raw_sheets`` holds each sheet's detected layout and its
header as published; ``raw_rows`` holds one row per non-blank spreadsheet row, each cell as
published text beside its hyperlink and its column's header in the layout registry's form
(``layouts.normalise_header``), which the staging models match on. Only files not loaded before are read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from ice287g.layouts import detect_workbook, load_layouts, normalise_header
from ice287g.registry import FIELDS, Entry, Registry
from ice287g.workbook import read_workbook

# Bump when the reader's output changes, so that every file is read again on the next build.
READER_VERSION = 2

# The raw tables' one definition; the loader's Arrow batches take their types from it on insert.
DDL = """
create table if not exists raw_sheets (
    file_sha256 varchar, sheet_index integer, sheet_name varchar, layout varchar, list varchar,
    header_row_number integer, header varchar[], data_row_count integer, reader_version integer
);
create table if not exists raw_rows (
    file_sha256 varchar, sheet_index integer, sheet_name varchar, row_number integer,
    is_header boolean,
    cells struct(column_number integer, header varchar, text varchar, kind varchar, hyperlink varchar)[]
);
"""
ROW_COLUMNS = ("file_sha256", "sheet_index", "sheet_name", "row_number", "is_header")
CELL_FIELDS = ("column_number", "header", "text", "kind", "hyperlink")


@dataclass
class LoadReport:
    files_total: int
    files_read: int
    rows_total: int
    layouts: dict[str, int]


class _Batch:
    """Sheets and rows of newly read files, kept column-wise for a fast Arrow hand-over."""

    def __init__(self):
        self.sheets: list[dict] = []
        self.rows = {name: [] for name in ROW_COLUMNS}
        self.offsets = [0]
        self.cells = {name: [] for name in CELL_FIELDS}

    def add_file(self, entry: Entry, path: Path, layouts) -> None:
        """Read one workbook; raises InputError naming the file."""
        detected = detect_workbook(read_workbook(path, entry.file_name), layouts, entry.file_name)
        for d in detected:
            headers = {c.column_number: normalise_header(c.text) for c in d.header.cells}
            self.sheets.append(
                {
                    "file_sha256": entry.file_sha256,
                    "sheet_index": d.sheet.index,
                    "sheet_name": d.sheet.name,
                    "layout": d.layout.name,
                    "list": d.layout.list,
                    "header_row_number": d.header.row_number,
                    "header": [c.text for c in d.header.cells],
                    "data_row_count": len(d.data_rows),
                    "reader_version": READER_VERSION,
                }
            )
            for row in [d.header, *d.data_rows]:
                self.rows["file_sha256"].append(entry.file_sha256)
                self.rows["sheet_index"].append(d.sheet.index)
                self.rows["sheet_name"].append(d.sheet.name)
                self.rows["row_number"].append(row.row_number)
                self.rows["is_header"].append(row is d.header)
                for cell in row.cells:
                    self.cells["column_number"].append(cell.column_number)
                    self.cells["header"].append(headers.get(cell.column_number, ""))
                    self.cells["text"].append(cell.text)
                    self.cells["kind"].append(cell.kind)
                    self.cells["hyperlink"].append(cell.hyperlink)
                self.offsets.append(len(self.cells["text"]))

    def sheets_table(self) -> pa.Table:
        return pa.Table.from_pylist(self.sheets)

    def rows_table(self) -> pa.Table:
        # types are inferred here and cast to the DDL's on insert
        cells = pa.StructArray.from_arrays([pa.array(self.cells[n]) for n in CELL_FIELDS], names=list(CELL_FIELDS))
        columns = [pa.array(self.rows[n]) for n in ROW_COLUMNS]
        columns.append(pa.ListArray.from_arrays(pa.array(self.offsets, type=pa.int32()), cells))
        return pa.Table.from_arrays(columns, names=[*ROW_COLUMNS, "cells"])


def load_raw(
    con: duckdb.DuckDBPyConnection,
    registry: Registry,
    resolve: Callable[[Entry], Path],
    layouts_path: Path,
    progress: Callable[[str], None] = lambda _msg: None,
) -> LoadReport:
    """Bring the raw tables in ``con`` up to date with ``registry``.

    Every new file is read before anything is written, so a bad file leaves the tables as
    they were (the caller also works on a copy of the database).
    """
    layouts = load_layouts(layouts_path)
    con.execute(DDL)
    loaded = {
        sha
        for (sha,) in con.execute(
            "select distinct file_sha256 from raw_sheets where reader_version = ?", [READER_VERSION]
        ).fetchall()
    }
    stale = {sha for (sha,) in con.execute("select distinct file_sha256 from raw_sheets").fetchall()} - loaded
    wanted = set(registry.entries)
    todo = [e for e in registry if e.file_sha256 not in loaded]
    dropped = (loaded | stale) - wanted

    batch = _Batch()
    for i, entry in enumerate(todo, start=1):
        batch.add_file(entry, resolve(entry), layouts)
        if i % 200 == 0:
            progress(f"read {i}/{len(todo)} new files")

    remove = sorted(dropped | stale | {e.file_sha256 for e in todo})
    if remove:
        con.execute("create or replace temp table _remove (file_sha256 varchar)")
        con.executemany("insert into _remove values (?)", [[s] for s in remove])
        con.execute("delete from raw_rows where file_sha256 in (select file_sha256 from _remove)")
        con.execute("delete from raw_sheets where file_sha256 in (select file_sha256 from _remove)")
    if batch.sheets:
        sheets_arrow = batch.sheets_table()  # noqa: F841 (read by DuckDB's replacement scan)
        rows_arrow = batch.rows_table()  # noqa: F841
        con.execute("insert into raw_sheets by name select * from sheets_arrow")
        con.execute("insert into raw_rows by name select * from rows_arrow")

    files_arrow = pa.Table.from_pylist(  # noqa: F841
        [{k: getattr(e, k) for k in FIELDS} for e in registry],
        schema=pa.schema([(k, pa.int64() if k == "bytes" else pa.string()) for k in FIELDS]),
    )
    con.execute("create or replace table raw_files as select * from files_arrow")

    rows_total = con.execute("select count(*) from raw_rows where not is_header").fetchall()[0][0]
    layouts_seen = dict(
        con.execute(
            "select layout, count(distinct file_sha256) from raw_sheets group by layout order by layout"
        ).fetchall()
    )
    return LoadReport(len(registry), len(todo), rows_total, layouts_seen)
