"""ICE's 287(g) lists as clean, versioned tables: one version of the ice287g data package.

    import ice287g_data

    ice287g_data.tables()                      # ["snapshots", "publications", "agencies", ...]
    agreements = ice287g_data.load("agreements")
    active = ice287g_data.load("agreements", as_of="2025-07-01")   # the agreements listed that day
    rows = ice287g_data.load("listings", as_of="2025-07-01", list="participating")
    ice287g_data.descriptor()                  # the Frictionless descriptor: schemas, descriptions, sources
    ice287g_data.__version__                   # the data version, e.g. "2026.3.27.1"

Only pandas is needed. When pyarrow imports and the package ships Parquet, a table is read from
its Parquet file; otherwise from its CSV with the types its Table Schema declares. Either way the
dtypes are the same: nullable integers ("Int64"), booleans ("boolean"), floats ("Float64") and
strings ("string"; codes such as county_fips "02150" stay text), dates as datetime64 and
timestamps as UTC datetime64.

Every file is checked before it is read: a CSV against the ``bytes`` and ``hash`` of its resource in
``datapackage.json``, a Parquet file against its line in ``SHA256SUMS``. A damaged file raises
``ChecksumError`` naming it.

``load`` is ice287g's own reader (``ice287g.consume.loader``, copied into this wheel as ``_reader``
when it is built), so ``as_of`` and ``list`` follow the rules of its docstring:
``help(ice287g_data._reader.consume.loader)``.

This module is the template that ``ice287g.publish.wheel`` copies into the ``ice287g-data`` wheel.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path

import pandas as pd

from ._reader.consume import loader as _loader
from ._reader.consume.loader import ChecksumMismatch as ChecksumError

__version__ = "0.0.0"  # set by ice287g.publish.wheel when it builds the wheel

__all__ = ["ChecksumError", "__version__", "descriptor", "load", "tables"]

_HERE = Path(__file__).parent


@cache
def _descriptor() -> dict:
    return json.loads((_HERE / "datapackage.json").read_text(encoding="utf-8"))


def descriptor() -> dict:
    """The package's Frictionless descriptor (``datapackage.json``): a copy, safe to change."""
    return copy.deepcopy(_descriptor())


def tables() -> list[str]:
    """The names of the tables, in the descriptor's order."""
    return [resource["name"] for resource in _descriptor()["resources"]]


def load(table: str, as_of=None, list: str | None = None) -> pd.DataFrame:
    """One table as a pandas DataFrame, every file checked first (a damaged one raises
    ``ChecksumError`` naming it). ``as_of``: for ``listings`` (with ``list``, participating or
    pending) and ``agreements``, that day's state only; ``list`` alone keeps one list's listings."""
    if table not in tables():
        raise KeyError(f"no table {table!r} in ice287g-data {__version__}; the tables are: {', '.join(tables())}")
    return _loader.load(table, source=_HERE, as_of=as_of, list=list)
