"""Write the versioned Frictionless data package: CSV + Parquet per mart, descriptor, checksums,
validation summary, changelog entry and one zip; publish it without ever overwriting a version.

Every byte written depends only on the database, the code and the registry: rows are sorted by
primary key, timestamps are UTC text, the zip has fixed member times, and ``created`` is the
newest capture or archive time known of the registered snapshots, never the wall clock.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import duckdb

from ice287g import ICE_PAGE, PACKAGE_NAME
from ice287g.errors import InputError
from ice287g.util.hashing import sha256_of
from ice287g.util.timestamps import TIMESTAMP_FORMAT
from ice287g.validate.schema import RESOURCES, ResourceSchema

ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _select(schema: ResourceSchema, for_csv: bool) -> str:
    columns = []
    for name, kind in schema.field_types.items():
        quoted = f'"{name}"'
        if for_csv and kind == "datetime":
            columns.append(f"strftime({quoted}, '{TIMESTAMP_FORMAT}') as {quoted}")
        else:
            columns.append(quoted)
    order = ", ".join(f'"{c}"' for c in schema.primary_key)
    return f"select {', '.join(columns)} from {schema.name} order by {order}"


def export_tables(con: duckdb.DuckDBPyConnection, schemas: list[ResourceSchema], data_dir: Path) -> None:
    """``data/<resource>.csv`` and ``.parquet`` for every resource, rows in primary-key order."""
    data_dir.mkdir(parents=True, exist_ok=True)
    con.execute("set threads = 1")  # one writer thread: the same bytes on every machine
    for schema in schemas:
        csv_path = (data_dir / f"{schema.name}.csv").as_posix()
        parquet_path = (data_dir / f"{schema.name}.parquet").as_posix()
        con.execute(
            f"copy ({_select(schema, for_csv=True)}) to '{csv_path}' "
            "(format csv, header true, delimiter ',', quote '\"', nullstr '', dateformat '%Y-%m-%d')"
        )
        con.execute(
            f"copy ({_select(schema, for_csv=False)}) to '{parquet_path}' "
            "(format parquet, compression zstd, row_group_size 122880)"
        )


def descriptor(
    version: str,
    created: str | None,
    schemas: list[ResourceSchema],
    folder: Path,
    sources: list[dict],
) -> dict:
    """The Frictionless (v2) descriptor of the package in ``folder``."""
    resources = []
    for schema in schemas:
        path = folder / "data" / f"{schema.name}.csv"
        resources.append(
            {
                "name": schema.name,
                "type": "table",
                "title": schema.title,
                "description": schema.description,
                "path": f"data/{schema.name}.csv",
                "scheme": "file",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "bytes": path.stat().st_size,
                "hash": f"sha256:{sha256_of(path)}",
                "schema": schema.schema,
            }
        )
    package = {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": PACKAGE_NAME,
        "title": "ICE 287(g) agreements: the full published history",
        "description": (
            "Every archived copy of ICE's lists of agencies participating in the 287(g) program and of "
            f"pending applications, cleaned into versioned, validated tables: {', '.join(RESOURCES[:-1])} and "
            f"{RESOURCES[-1]}. The version's folder and zip hold each table as CSV and as Parquet (checksums "
            "in SHA256SUMS); a repository's committed release (data/) holds the CSVs."
        ),
        "version": version,
        "created": created,
        "licenses": [
            {
                "name": "CC0-1.0",
                "path": "https://creativecommons.org/publicdomain/zero/1.0/",
                "title": "Data: Creative Commons Zero v1.0 (the source lists are U.S. government works)",
            },
            {"name": "MIT", "path": "https://opensource.org/licenses/MIT", "title": "Code: MIT License"},
        ],
        "sources": sources,
        "contributors": [{"title": "ice287g maintainers", "roles": ["creator", "maintainer"]}],
        "keywords": [
            "287(g)",
            "ICE",
            "immigration enforcement",
            "law enforcement agencies",
            "memoranda of agreement",
            "United States",
        ],
        "resources": resources,
    }
    if not created:  # no registered file has a known time: better no date than a made-up one
        del package["created"]
    return package


def sources_for(con: duckdb.DuckDBPyConnection) -> list[dict]:
    rows = con.execute(
        """
        select archive, count(*), min(published_date), max(published_date)
        from snapshots group by archive order by archive
        """
    ).fetchall()
    sources = [
        {
            "title": "U.S. Immigration and Customs Enforcement: Delegation of Immigration Authority Section 287(g)",
            "path": ICE_PAGE,
            "description": "ICE's page that publishes the participating and pending agencies lists as Excel files.",
        }
    ]
    for archive, files, first, last in rows:
        source = {
            "title": archive,
            "description": f"{files} archived snapshots of lists published {first} to {last}.",
        }
        if archive and "/" in archive:
            source["path"] = f"https://github.com/{archive}"
        sources.append(source)
    return sources


def write_checksums(folder: Path) -> None:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "SHA256SUMS")
    lines = [f"{sha256_of(p)}  {p.relative_to(folder).as_posix()}" for p in files]
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def write_zip(folder: Path, target: Path, prefix: str) -> None:
    """A zip of ``folder`` whose bytes depend only on the files' names and contents."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(f"{prefix}/{path.relative_to(folder).as_posix()}", date_time=ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            zf.writestr(info, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)


def frictionless_check(descriptor_path: Path) -> None:
    """Validate the package with frictionless; raises InputError listing the first errors."""
    from frictionless import validate as frictionless_validate

    report = frictionless_validate(str(descriptor_path))
    if not report.valid:
        errors = report.flatten(["type", "note"])[:10]
        detail = "; ".join(f"{kind}: {note}" for kind, note in errors)
        raise InputError(str(descriptor_path), f"frictionless validation failed: {detail}")


def assemble(
    con: duckdb.DuckDBPyConnection,
    schemas: list[ResourceSchema],
    folder: Path,
    version: Callable[[Path], str],
    validation_summary: Path,
    changelog: Callable[[Path, str], str],
) -> dict:
    """Write the whole package into ``folder`` (a fresh temporary folder) and return its descriptor.
    ``version(folder)`` gives the version once the tables are written (a backfill is told from a
    new version by its tables), and ``changelog(folder, version)`` the version's changelog section."""
    export_tables(con, schemas, folder / "data")
    number = version(folder)
    # the newest time any registered file is known to have existed, never the clock's
    (created,) = con.execute(
        f"select strftime(max(greatest(captured_at, archived_at)), '{TIMESTAMP_FORMAT}') from snapshots"
    ).fetchall()[0]
    package = descriptor(number, created, schemas, folder, sources_for(con))
    (folder / "datapackage.json").write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n")
    shutil.copyfile(validation_summary, folder / "validation.json")
    (folder / "CHANGELOG.md").write_text(f"# Changelog\n\n{changelog(folder, number)}")
    write_checksums(folder)
    frictionless_check(folder / "datapackage.json")
    return package


def _differences(a: Path, b: Path) -> list[str]:
    files_a = {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()}
    differ = sorted(files_a ^ files_b)
    differ += sorted(f for f in files_a & files_b if (a / f).read_bytes() != (b / f).read_bytes())
    return differ


def publish(staged: Path, dist_dir: Path, version: str) -> tuple[Path, bool]:
    """Move a staged version folder (and its zip) into ``dist_dir``; never overwrite.

    Returns (folder, is_new). An existing version with identical bytes is left as it is; one with
    different bytes is an error, since downstream users pin versions.
    """
    target = dist_dir / version
    zip_name = f"{PACKAGE_NAME}-{version}.zip"
    if target.exists():
        differ = _differences(target, staged)
        if differ:
            raise InputError(
                str(target),
                f"version {version} is already published and this build differs in {differ[:5]}: a published "
                "version is never overwritten. If the method changed, bump METHOD_RELEASE in "
                "src/ice287g/__init__.py; if the data changed, register the new snapshots.",
            )
        return target, False
    staged_zip = staged.parent / zip_name
    write_zip(staged, staged_zip, f"{PACKAGE_NAME}-{version}")
    (staged.parent / f"{zip_name}.sha256").write_text(f"{sha256_of(staged_zip)}  {zip_name}\n")
    dist_dir.mkdir(parents=True, exist_ok=True)
    # the folder is the version's commit point: the zip goes first so a reader never sees a
    # version folder without its zip
    os.replace(staged_zip, dist_dir / zip_name)
    os.replace(staged.parent / f"{zip_name}.sha256", dist_dir / f"{zip_name}.sha256")
    os.rename(staged, target)
    return target, True
