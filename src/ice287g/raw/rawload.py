"""Load registered workbooks into DuckDB's raw tables, incrementally, with no cleaning.

``raw_files`` mirrors the registry; ``raw_sheets`` holds each sheet's detected layout and its
header as published; ``raw_rows`` holds one row per non-blank spreadsheet row, each cell as
published text beside its hyperlink and its column's header in the layout registry's form
(``layouts.normalise_header``), which the staging models match on. Only files not loaded before are read.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from pathlib import Path

import duckdb
import pyarrow as pa

from ice287g.raw.layouts import detect_workbook, load_layouts, normalise_header
from ice287g.raw.workbook import read_workbook
from ice287g.sources.registry import FIELDS, Entry, Registry

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


# Files read between two inserts: enough that an insert's fixed cost is lost in the reading, few
# enough that what waits for it stays small (the longest list has 1,561 rows; most a few hundred).
BATCH_FILES = 64


@cache
def _arrow_schemas() -> dict[str, pa.Schema]:
    """The raw tables' Arrow types, taken from the DDL (their one definition), so that every batch
    hands DuckDB the same schema whatever its values (a batch without one hyperlink would
    otherwise infer a null column)."""
    with duckdb.connect() as con:
        con.execute(DDL)
        return {t: con.sql(f"select * from {t} limit 0").to_arrow_table().schema for t in ("raw_sheets", "raw_rows")}


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector. Reading a batch makes hundreds of thousands of small
    objects (cells, rows, calamine's grids) and no cycles; the collector kept traversing them and
    took a quarter of the read. Whatever a batch leaves is freed by reference counting, and the
    collector, back on after it, still finds any cycle."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_collector_paused()
def _read_batch(files: list[tuple[str, str, Path]], layouts) -> tuple[pa.Table, pa.Table]:
    """Raw sheets and rows of a few workbooks, given as (sha256, file name, path), in that order.

    Raises InputError naming the file.
    """
    schemas = _arrow_schemas()
    sheets = {name: [] for name in schemas["raw_sheets"].names}
    rows = {name: [] for name in ROW_COLUMNS}
    lengths: list[int] = []
    cells: list = []
    headers: list[str] = []
    for sha, file_name, path in files:
        for d in detect_workbook(read_workbook(path, file_name), layouts, file_name):
            named = {c.column_number: normalise_header(c.text) for c in d.header.cells}
            for key, value in (
                ("file_sha256", sha),
                ("sheet_index", d.sheet.index),
                ("sheet_name", d.sheet.name),
                ("layout", d.layout.name),
                ("list", d.layout.list),
                ("header_row_number", d.header.row_number),
                ("header", [c.text for c in d.header.cells]),
                ("data_row_count", len(d.data_rows)),
                ("reader_version", READER_VERSION),
            ):
                sheets[key].append(value)
            sheet_rows = [d.header, *d.data_rows]
            n = len(sheet_rows)
            rows["file_sha256"] += [sha] * n
            rows["sheet_index"] += [d.sheet.index] * n
            rows["sheet_name"] += [d.sheet.name] * n
            rows["row_number"] += [r.row_number for r in sheet_rows]
            rows["is_header"] += [True] + [False] * (n - 1)
            lengths += [len(r.cells) for r in sheet_rows]
            sheet_cells = [c for r in sheet_rows for c in r.cells]
            cells += sheet_cells
            headers += [named.get(c.column_number, "") for c in sheet_cells]
    # Cells are tuples (column_number, text, kind, hyperlink): one transpose gives their columns.
    columns = list(zip(*cells, strict=True)) if cells else [()] * 4
    columns.insert(1, headers)
    cell_type = schemas["raw_rows"].field("cells").type.value_type
    cell_array = pa.StructArray.from_arrays(
        [pa.array(col, type=cell_type.field(name).type) for col, name in zip(columns, CELL_FIELDS, strict=True)],
        names=list(CELL_FIELDS),
    )
    offsets = pa.array([0, *accumulate(lengths)], type=pa.int32())
    row_arrays = [pa.array(rows[n], type=schemas["raw_rows"].field(n).type) for n in ROW_COLUMNS]
    rows_table = pa.Table.from_arrays(
        [*row_arrays, pa.ListArray.from_arrays(offsets, cell_array)], names=[*ROW_COLUMNS, "cells"]
    )
    return pa.Table.from_pydict(sheets, schema=schemas["raw_sheets"]), rows_table


def _read_batches(batches: list, layouts, workers: int | None) -> Iterator[tuple[pa.Table, pa.Table]]:
    """Each batch's tables, in order; read in worker processes when that can pay for starting them."""
    workers = min(workers or os.cpu_count() or 1, len(batches))
    if workers < 2:
        for files in batches:
            yield _read_batch(files, layouts)
        return
    # spawn, not fork: the parent holds DuckDB's threads, and a forked copy of a lock held by one
    # of them would never be released. A few batches run ahead, so that memory stays bounded.
    ahead = 2 * workers
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending = deque(pool.submit(_read_batch, files, layouts) for files in batches[:ahead])
        queued = len(pending)
        try:
            while pending:
                tables = pending.popleft().result()  # a worker's InputError is raised here
                if queued < len(batches):
                    pending.append(pool.submit(_read_batch, batches[queued], layouts))
                    queued += 1
                yield tables
        finally:
            pool.shutdown(cancel_futures=True)


def load_raw(
    con: duckdb.DuckDBPyConnection,
    registry: Registry,
    resolve: Callable[[Entry], Path],
    layouts_path: Path,
    progress: Callable[[str], None] = lambda _msg: None,
    batch_files: int = BATCH_FILES,
    workers: int | None = None,
) -> LoadReport:
    """Bring the raw tables in ``con`` up to date with ``registry``.

    New files are inserted ``batch_files`` at a time, so that memory does not grow with the
    archive, all in one transaction: a bad file leaves the tables as they were (the caller also
    works on a copy of the database). Batches are read by ``workers`` processes (default: one per
    core) when there are a few of them, and inserted in registry order.
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

    con.begin()
    try:
        remove = sorted(dropped | stale | {e.file_sha256 for e in todo})
        if remove:
            con.execute("create or replace temp table _remove (file_sha256 varchar)")
            con.executemany("insert into _remove values (?)", [[s] for s in remove])
            con.execute("delete from raw_rows where file_sha256 in (select file_sha256 from _remove)")
            con.execute("delete from raw_sheets where file_sha256 in (select file_sha256 from _remove)")
        batches = [
            [(e.file_sha256, e.file_name, resolve(e)) for e in todo[start : start + batch_files]]
            for start in range(0, len(todo), batch_files)
        ]
        done = 0
        # the tables are read by DuckDB's replacement scan, by name
        for files, (sheets_arrow, rows_arrow) in zip(batches, _read_batches(batches, layouts, workers), strict=True):  # noqa: B007
            con.execute("insert into raw_sheets by name select * from sheets_arrow")
            con.execute("insert into raw_rows by name select * from rows_arrow")
            done += len(files)
            progress(f"read {done}/{len(todo)} new files")

        files_arrow = pa.Table.from_pylist(  # noqa: F841
            [{k: getattr(e, k) for k in FIELDS} for e in registry],
            schema=pa.schema([(k, pa.int64() if k == "bytes" else pa.string()) for k in FIELDS]),
        )
        con.execute("create or replace table raw_files as select * from files_arrow")
    except BaseException:
        con.rollback()
        raise
    con.commit()

    rows_total = con.execute("select count(*) from raw_rows where not is_header").fetchall()[0][0]
    layouts_seen = dict(
        con.execute(
            "select layout, count(distinct file_sha256) from raw_sheets group by layout order by layout"
        ).fetchall()
    )
    return LoadReport(len(registry), len(todo), rows_total, layouts_seen)
