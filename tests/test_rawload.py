"""The raw load in batches: any batch size, in process or in workers, gives the same raw tables,
and a bad file in a later batch leaves them as they were."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from conftest import PENDING_HEADER, participating_rows, write_workbook

from ice287g.errors import InputError
from ice287g.raw.rawload import load_raw
from ice287g.sources.registry import Registry, make_entry
from ice287g.util.hashing import sha256_of

LAYOUTS = Path(__file__).resolve().parents[1] / "sources" / "layouts.csv"
TABLES = ("raw_sheets", "raw_rows", "raw_files")


def registry_of(folder: Path, numbers: range, bad_at: int | None = None, entries=()) -> Registry:
    """``entries`` and small lists of different lengths and links, one for each of ``numbers``;
    the one numbered ``bad_at`` is no workbook."""
    registry = Registry(folder / "snapshots.csv", {})
    for entry in entries:
        registry.add(entry)
    for i in numbers:
        name = f"participatingAgencies03{i + 1:02d}2026am.xlsx"
        path = folder / "files" / name
        if i == bad_at:
            path.write_text("STATE,AGENCY\nTEXAS,Alpha\n")
        elif i % 3 == 2:
            name = name.replace("participating", "pending")
            path = write_workbook(path.with_name(name), [PENDING_HEADER, ["UTAH", f"Agency {i}", "County", "X", "Y"]])
        else:
            links = {(2 + k, 7): f"https://example.org/{i}/{k}.pdf" for k in range(i % 2 + 1)}
            path = write_workbook(path, participating_rows(i + 1, dt.date(2026, 1, i + 1)), links=links)
        registry.add(make_entry(sha256_of(path), name, path.stat().st_size, mirror_path=str(path)))
    return registry


def load(con, registry: Registry, **options):
    return load_raw(con, registry, lambda entry: Path(entry.mirror_path), LAYOUTS, **options)


def contents(con) -> dict[str, list]:
    return {table: con.execute(f"select * from {table} order by all").fetchall() for table in TABLES}


@pytest.fixture
def files(tmp_path) -> Path:
    (tmp_path / "files").mkdir()
    return tmp_path


@pytest.mark.parametrize("options", [{"batch_files": 2}, {"batch_files": 2, "workers": 2}])
def test_any_batch_size_loads_the_same_tables(files, options):
    registry = registry_of(files, range(7))
    with duckdb.connect() as whole, duckdb.connect() as batched:
        report = load(whole, registry, batch_files=1000, workers=1)
        assert report.files_read == 7
        load(batched, registry, **options)
        expected = contents(whole)
        assert len(expected["raw_sheets"]) == 7
        assert sum(len(cells) for *_, cells in expected["raw_rows"]) > 7 * 5
        assert contents(batched) == expected
        # the registry's order too: rows are inserted file after file
        order = "select file_sha256 from raw_sheets group by file_sha256 order by min(rowid)"
        assert batched.execute(order).fetchall() == whole.execute(order).fetchall()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_bad_file_in_a_later_batch_leaves_the_tables_as_they_were(files, workers):
    first = registry_of(files, range(2))
    with duckdb.connect(str(files / "raw.duckdb")) as con:
        load(con, first)
        before = contents(con)
        # one of the loaded files is dropped and six arrive, the sixth no workbook: had the
        # batches before it been kept, the tables would have changed
        grown = registry_of(files, range(2, 8), bad_at=7, entries=first.sorted()[1:])
        with pytest.raises(InputError, match="participatingAgencies03082026am.xlsx"):
            load(con, grown, batch_files=1, workers=workers)
        assert contents(con) == before
