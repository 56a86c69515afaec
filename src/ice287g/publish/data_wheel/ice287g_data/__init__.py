"""ICE's 287(g) lists as clean, versioned tables: one version of the ice287g data package.

    import ice287g_data

    ice287g_data.tables()                      # ["snapshots", "publications", "agencies", ...]
    agreements = ice287g_data.load("agreements")
    ice287g_data.descriptor()                  # the Frictionless descriptor: schemas, descriptions, sources
    ice287g_data.__version__                   # the data version, e.g. "2026.3.27.1"

Only pandas is needed. When pyarrow imports, a table is read from its Parquet file; otherwise from
its CSV with the types its Table Schema declares. Either way the dtypes are the same: nullable
integers ("Int64"), booleans ("boolean"), floats ("Float64") and strings ("string"), dates as
datetime64 and timestamps as UTC datetime64.

Every file is checked before it is read: a CSV against the ``bytes`` and ``hash`` of its resource in
``datapackage.json``, a Parquet file against its line in ``SHA256SUMS``. A damaged file raises
``ChecksumError`` naming it.

This module is the template that ``ice287g.publish.wheel`` copies into the ``ice287g-data`` wheel. It
imports nothing but the standard library and pandas.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
from functools import cache
from importlib import resources

import pandas as pd

__version__ = "0.0.0"  # set by ice287g.publish.wheel when it builds the wheel

__all__ = ["ChecksumError", "__version__", "descriptor", "load", "tables"]

# Table Schema type -> pandas dtype; dates and timestamps are parsed apart, anything else is a string
DTYPES = {"integer": "Int64", "boolean": "boolean", "number": "Float64", "string": "string"}
BOOLEANS = {"true": True, "false": False}


class ChecksumError(Exception):
    """A file of the package whose size or sha256 is not the one the package records."""

    def __init__(self, path: str, problem: str):
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


def _file(relative: str):
    """The packaged file at ``relative`` ("data/agreements.csv"), as an importlib.resources Traversable."""
    node = resources.files(__name__)
    for part in relative.split("/"):
        node = node.joinpath(part)
    return node


@cache
def _descriptor() -> dict:
    return json.loads(_file("datapackage.json").read_text(encoding="utf-8"))


@cache
def _sums() -> dict[str, str]:
    """``SHA256SUMS`` as {relative path: sha256}."""
    sums = {}
    for line in _file("SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition(" ")
        if name:
            sums[name.lstrip(" *")] = digest.lower()
    return sums


@cache
def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def descriptor() -> dict:
    """The package's Frictionless descriptor (``datapackage.json``): a copy, safe to change."""
    return copy.deepcopy(_descriptor())


def tables() -> list[str]:
    """The names of the tables, in the descriptor's order."""
    return [resource["name"] for resource in _descriptor()["resources"]]


def _resource(table: str) -> dict:
    for resource in _descriptor()["resources"]:
        if resource["name"] == table:
            return resource
    raise KeyError(f"no table {table!r} in ice287g-data {__version__}; the tables are: {', '.join(tables())}")


def _checked(relative: str, sha256: str, size: int | None = None) -> bytes:
    """The bytes of a packaged file, after checking them against the size and sha256 recorded for it."""
    path = _file(relative)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ChecksumError(str(path), "missing from the installed package: reinstall ice287g-data") from None
    if size is not None and len(data) != size:
        raise ChecksumError(
            str(path),
            f"{len(data)} bytes where the package records {size}: the file is damaged, reinstall ice287g-data",
        )
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256.lower():
        raise ChecksumError(
            str(path),
            f"sha256 {digest} where the package records {sha256}: the file is damaged, reinstall ice287g-data",
        )
    return data


def _typed(frame: pd.DataFrame, schema: dict) -> pd.DataFrame:
    """The same dtypes whichever file a table was read from."""
    for field in schema["fields"]:
        name, kind = field["name"], field["type"]
        column = frame[name]
        # astype, not pd.to_datetime: pandas 2 parses text into nanoseconds, which end in 2262
        if kind == "date":
            frame[name] = column.astype("datetime64[us]")
        elif kind == "datetime":
            if pd.api.types.is_datetime64_dtype(column.dtype):  # naive: the package's timestamps are UTC
                column = column.dt.tz_localize("UTC")
            frame[name] = column.astype("datetime64[us, UTC]")
        else:
            frame[name] = column.astype(DTYPES.get(kind, "string"))
    return frame


def _read_csv(data: bytes, schema: dict, where: str) -> pd.DataFrame:
    """A CSV of the package: integers and numbers parsed as nullable types, booleans from "true" and
    "false", dates and timestamps from ISO 8601 text (in ``_typed``), an empty cell as missing."""
    parsed = {"integer": "Int64", "number": "Float64"}
    dtypes = {field["name"]: parsed.get(field["type"], "string") for field in schema["fields"]}
    frame = pd.read_csv(io.BytesIO(data), dtype=dtypes, keep_default_na=False, na_values=[""], encoding="utf-8")
    for field in schema["fields"]:
        name, kind = field["name"], field["type"]
        if kind == "boolean":
            values = frame[name]
            unknown = set(values.dropna()) - set(BOOLEANS)
            if unknown:
                raise ValueError(f"{where}: column {name} is not boolean: {sorted(unknown)[:5]}")
            frame[name] = values.map(BOOLEANS, na_action="ignore").astype("boolean")
    return _typed(frame, schema)


def load(table: str) -> pd.DataFrame:
    """One table as a pandas DataFrame, from Parquet when pyarrow imports, else from CSV.

    The file is checked against the checksum the package records for it first; a damaged file
    raises ``ChecksumError`` naming it.
    """
    resource = _resource(table)
    schema = resource["schema"]
    parquet = f"data/{table}.parquet"
    if _has_pyarrow() and parquet in _sums():
        data = _checked(parquet, _sums()[parquet])
        return _typed(pd.read_parquet(io.BytesIO(data), engine="pyarrow"), schema)
    algorithm, _, digest = resource["hash"].rpartition(":")
    if algorithm != "sha256":
        raise ChecksumError(resource["path"], f"hash {resource['hash']!r} is not a sha256 in this package's descriptor")
    return _read_csv(_checked(resource["path"], digest, resource.get("bytes")), schema, resource["path"])
