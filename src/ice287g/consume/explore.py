"""Serve the committed release in Datasette, so anyone can browse the tables without code.

``database(settings)`` turns the release in ``settings.release`` (``datapackage.json`` and
``data/<table>.csv``) into ``<build>/explore/<version>/ice287g.db``: one SQLite table per resource,
columns typed from the Table Schema (integer → INTEGER, number → REAL, boolean → INTEGER 0/1,
anything else TEXT; a missing value → NULL), the schema's primary key, its foreign keys, and
indexes on the facet and foreign-key columns. A table that names an agency but not its state
(agreements, applications) gets the agency's ``state_code`` as one more column (``BY_AGENCY``),
so it can be faceted by state; the metadata says it is not part of the published table. Beside
it goes the Datasette metadata (``ice287g.metadata.json``): the package's title, description,
data license and source, each table's grain sentence and column descriptions, and facets. A
version never changes, so an
existing database of the same version is reused when it has every table and column this code
writes (one an older version of it wrote is written again); a new one is written to a temporary
file and renamed, so an interrupted run never leaves half a database.

Datasette and sqlite-utils are the optional extra ``ice287g[explore]``; they are imported only here.
"""

from __future__ import annotations

import csv
import graphlib
import importlib
import json
import os
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

from ice287g import ICE_PAGE, PACKAGE_NAME
from ice287g.errors import InputError
from ice287g.settings import Settings
from ice287g.util.csvfile import write_atomically

EXTRA = f"pip install '{PACKAGE_NAME}[explore]'"
# Columns worth a facet wherever a table has them: few distinct values, often filtered on.
FACETS = ("state_code", "support_model", "status", "list", "outcome", "agency_type", "agency_kind")
# The column Datasette shows for a foreign key into these tables, instead of the bare id.
LABELS = {"agencies": "agency_name"}
SQL_TYPES: dict[str, type] = {"integer": int, "number": float, "boolean": int}
# Columns a table without them takes from its agency (agencies, by agency_id), for browsing.
BY_AGENCY = ("state_code",)


def added_columns(resources: list[dict], resource: dict) -> list[str]:
    """The BY_AGENCY columns ``resource`` lacks and takes from agencies: only a table with an
    agency_id, in a release whose agencies table has the column."""
    names = [f["name"] for f in resource["schema"]["fields"]]
    agencies = next((r for r in resources if r["name"] == "agencies"), None)
    if agencies is None or resource is agencies or "agency_id" not in names:
        return []
    have = {f["name"] for f in agencies["schema"]["fields"]}
    return [c for c in BY_AGENCY if c not in names and c in have]


def require_extra() -> None:
    """InputError, saying how to install them, unless Datasette and sqlite-utils can be imported."""
    missing = []
    for module, package in (("sqlite_utils", "sqlite-utils"), ("datasette", "datasette")):
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(package)
    if missing:
        raise InputError(f"{PACKAGE_NAME} explore", f"needs {' and '.join(missing)}, the optional extra: run {EXTRA}")


def read_descriptor(release: Path) -> dict:
    """The committed release's ``datapackage.json``; InputError when there is none."""
    path = release / "datapackage.json"
    if not path.exists():
        raise InputError(str(path), "no committed release here: run `ice287g build`, or check out a release")
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    if not descriptor.get("version") or not descriptor.get("resources"):
        raise InputError(str(path), "the descriptor has no version or no resources")
    return descriptor


# The database's name in Datasette (its file name without ``.db``): the same for every release, so
# addresses such as /ice287g/agreements stay valid; each version has a folder of its own.
DATABASE = PACKAGE_NAME


def database_path(settings: Settings, version: str) -> Path:
    return settings.build_dir / "explore" / version / f"{DATABASE}.db"


def metadata_path(db: Path) -> Path:
    return db.with_name(f"{db.stem}.metadata.json")


def facets_of(field_names: list[str]) -> list[str]:
    """The facet columns a table has, in FACETS order."""
    return [name for name in FACETS if name in field_names]


def _license(descriptor: dict) -> dict:
    """The data license (the one titled ``Data…``, else the first) as Datasette's license keys."""
    licenses = descriptor.get("licenses") or []
    data = [lic for lic in licenses if str(lic.get("title", "")).startswith("Data")] or licenses
    if not data:
        return {}
    return {"license": data[0].get("name") or data[0].get("title", ""), "license_url": data[0].get("path", "")}


def _source(descriptor: dict) -> dict:
    """ICE's 287(g) page (else the first source) as Datasette's source keys."""
    sources = descriptor.get("sources") or []
    ice = [s for s in sources if s.get("path") == ICE_PAGE] or sources
    if not ice:
        return {}
    return {"source": ice[0].get("title") or ice[0].get("path", ""), "source_url": ice[0].get("path", "")}


def metadata(descriptor: dict) -> dict:
    """Datasette metadata for the release: package title, description, license and source; each
    table's grain sentence, column descriptions, facets and, where set, its label column."""
    tables = {}
    for resource in descriptor["resources"]:
        fields = resource["schema"]["fields"]
        added = added_columns(descriptor["resources"], resource)
        table = {
            "description": resource.get("description", ""),
            "columns": {f["name"]: f.get("description", "") for f in fields}
            | {
                c: f"The agency's {c} (agencies.{c}), added here to browse by it: not a published column."
                for c in added
            },
        }
        facets = facets_of([f["name"] for f in fields] + added)
        if facets:
            table["facets"] = facets
        label = LABELS.get(resource["name"])
        if label in table["columns"]:
            table["label_column"] = label
        tables[resource["name"]] = table
    return {
        "title": descriptor.get("title", PACKAGE_NAME),
        "description": f"{descriptor.get('description', '')} Release {descriptor['version']}.".strip(),
        **_license(descriptor),
        **_source(descriptor),
        "databases": {DATABASE: {"tables": tables}},
    }


def _converter(field: dict, missing: set[str]) -> Callable[[str], object]:
    """Turn a CSV cell of ``field`` into its SQLite value (None for a missing value)."""
    kind = field.get("type", "string")
    true_values = set(field.get("trueValues", ["true", "True", "TRUE", "1"]))
    false_values = set(field.get("falseValues", ["false", "False", "FALSE", "0"]))

    def convert(cell: str) -> object:
        if cell in missing:
            return None
        if kind == "integer":
            return int(cell)
        if kind == "number":
            return float(cell)
        if kind == "boolean":
            if cell in true_values:
                return 1
            if cell in false_values:
                return 0
            raise ValueError(f"{cell!r} is not a boolean")
        return cell

    return convert


def _rows(path: Path, schema: dict) -> Iterator[dict]:
    """The rows of a resource's CSV, typed by its schema; InputError naming the line otherwise."""
    fields = schema["fields"]
    missing = set(schema.get("missingValues", [""]))
    converters = {f["name"]: _converter(f, missing) for f in fields}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if list(reader.fieldnames or []) != [f["name"] for f in fields]:
            raise InputError(str(path), f"its header is not the schema's fields {[f['name'] for f in fields]}")
        for line, row in enumerate(reader, start=2):
            try:
                yield {name: convert(row[name]) for name, convert in converters.items()}
            except ValueError as exc:
                raise InputError(f"{path}:{line}", str(exc)) from exc


def _foreign_keys(resource: dict) -> list[tuple]:
    """The schema's foreign keys as sqlite-utils tuples (a self-reference names its own table)."""
    keys = []
    for fk in resource["schema"].get("foreignKeys", []):
        fields, ref = fk["fields"], fk["reference"]
        other = ref.get("resource") or resource["name"]
        columns, other_columns = [f if isinstance(f, list) else [f] for f in (fields, ref["fields"])]
        if len(columns) == 1:
            keys.append((columns[0], other, other_columns[0]))
        else:
            keys.append((tuple(columns), other, tuple(other_columns)))
    return keys


def _creation_order(resources: list[dict]) -> list[dict]:
    """Resources with every table a foreign key points to before the table that points to it
    (the descriptor's order when the keys form a cycle: keys into later tables are then skipped)."""
    by_name = {r["name"]: r for r in resources}
    graph = {name: {fk[1] for fk in _foreign_keys(r) if fk[1] in by_name} - {name} for name, r in by_name.items()}
    try:
        return [by_name[name] for name in graphlib.TopologicalSorter(graph).static_order()]
    except graphlib.CycleError:
        return resources


def _add_agency_columns(db, resources: list[dict]) -> None:
    """Each table's added_columns, filled from agencies by agency_id, and indexed."""
    for resource in resources:
        table = db.table(resource["name"])
        for column in added_columns(resources, resource):
            table.add_column(column, str)
            db.execute(
                f"update [{resource['name']}] set [{column}] = "
                f"(select agencies.[{column}] from agencies where agencies.agency_id = [{resource['name']}].agency_id)"
            )
            table.create_index([column], if_not_exists=True)
    db.conn.commit()


def _write_table(db, release: Path, resource: dict) -> None:
    """Create and fill one resource's table in the sqlite-utils Database ``db``."""
    path = release / resource["path"]
    if not path.is_file():
        raise InputError(str(path), f"the file of resource {resource['name']!r} is missing")
    schema = resource["schema"]
    columns = {f["name"]: SQL_TYPES.get(f.get("type", "string"), str) for f in schema["fields"]}
    key = schema.get("primaryKey") or []
    key = [key] if isinstance(key, str) else list(key)
    foreign_keys = [fk for fk in _foreign_keys(resource) if fk[1] == resource["name"] or db[fk[1]].exists()]
    table = db.table(resource["name"])
    table.create(
        columns,
        pk=(key[0] if len(key) == 1 else tuple(key)) if key else None,
        foreign_keys=foreign_keys,
    )
    table.insert_all(_rows(path, schema), batch_size=1000)
    for column in facets_of(list(columns)):
        table.create_index([column], if_not_exists=True)


def build_database(descriptor: dict, release: Path, db_path: Path) -> None:
    """Write the SQLite database of the release to ``db_path``, atomically."""
    import sqlite_utils

    db_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=db_path.parent, prefix=f".{db_path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        db = sqlite_utils.Database(tmp)
        try:
            for resource in _creation_order(descriptor["resources"]):
                _write_table(db, release, resource)
            _add_agency_columns(db, descriptor["resources"])
            db.index_foreign_keys()
        finally:
            db.close()
        os.chmod(tmp, 0o644)  # mkstemp makes files private; this one is for everyone
        os.replace(tmp, db_path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _is_current(db: Path, descriptor: dict) -> bool:
    """Whether ``db`` exists with every table and column this code writes for the release (a
    database an older version of this code wrote lacks the added columns, and is written again)."""
    if not db.exists():
        return False
    import sqlite3

    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as connection:
        for resource in descriptor["resources"]:
            rows = connection.execute(f"pragma table_info([{resource['name']}])").fetchall()
            wanted = [f["name"] for f in resource["schema"]["fields"]] + added_columns(
                descriptor["resources"], resource
            )
            if [row[1] for row in rows] != wanted:
                return False
    return True


def database(settings: Settings) -> Path:
    """The SQLite database of the committed release (built unless this version's exists), with its
    Datasette metadata written beside it; returns the database's path."""
    require_extra()
    descriptor = read_descriptor(settings.release)
    db = database_path(settings, descriptor["version"])
    if not _is_current(db, descriptor):
        build_database(descriptor, settings.release, db)
    text = json.dumps(metadata(descriptor), indent=2, ensure_ascii=False) + "\n"
    write_atomically(metadata_path(db), text.encode("utf-8"))
    return db


def check_port(host: str, port: int) -> None:
    """InputError naming the port when nothing can listen on ``host:port`` (e.g. it is in use)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError(f"--host {host}", f"cannot be resolved: {exc}") from exc
    family, _, _, _, address = infos[0]
    try:
        with socket.create_server(address, family=family):
            pass
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise InputError(
            f"--port {port}", f"cannot serve on {host}:{port} ({reason}); is it in use? choose another --port"
        ) from exc


def serve(db: Path, meta: Path, host: str, port: int) -> None:
    """Become Datasette (the process is replaced, never returns): stopping this process by its PID,
    or Ctrl-C, stops Datasette itself; a child would go on serving the port."""
    command = serve_command(db, meta, host, port)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)


def serve_command(db: Path, meta: Path, host: str, port: int) -> list[str]:
    """The command that runs Datasette over ``db`` with the metadata ``meta`` on ``host:port``."""
    datasette = [sys.executable, "-m", "datasette", "serve", str(db), "--metadata", str(meta)]
    return [*datasette, "--host", host, "--port", str(port)]


def url(host: str, port: int, db: Path) -> str:
    """The address of the database's page once Datasette serves it."""
    from datasette.utils import tilde_encode

    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/{tilde_encode(db.stem)}"
