"""Load a published table: from a version folder, a zip, or a URL pinned by sha256.

Parquet is read when the package has it (exact types); otherwise the CSV is parsed with the
types its Table Schema declares.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pooch

from ice287g.errors import InputError
from ice287g.package import list_versions
from ice287g.settings import Settings

PANDAS_TYPES = {"integer": "Int64", "boolean": "boolean", "number": "Float64", "string": "string"}


def _coerce(frame: pd.DataFrame, schema: dict) -> pd.DataFrame:
    """The same pandas dtypes whichever file a table was read from: nullable ints and booleans,
    strings, datetime64 for dates and UTC-aware datetime64 for timestamps."""
    for field in schema["fields"]:
        name, kind = field["name"], field["type"]
        if kind == "date":
            frame[name] = pd.to_datetime(frame[name]).astype("datetime64[us]")
        elif kind == "datetime":
            frame[name] = pd.to_datetime(frame[name], utc=True).dt.as_unit("us")
        else:
            frame[name] = frame[name].astype(PANDAS_TYPES.get(kind, "string"))
    return frame


def _read_csv(data: bytes, schema: dict) -> pd.DataFrame:
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""])
    for field in schema["fields"]:
        if field["type"] == "boolean":
            frame[field["name"]] = frame[field["name"]].map({"true": True, "false": False})
    return _coerce(frame, schema)


def _from_package(read: Callable[[str], bytes | None], where: str, resource: str) -> pd.DataFrame:
    """One resource of a package whose files ``read(relative path)`` returns (None: absent)."""
    descriptor = json.loads(read("datapackage.json"))
    entry = next((r for r in descriptor["resources"] if r["name"] == resource), None)
    if entry is None:
        raise InputError(where, f"no resource {resource!r} in this package")
    parquet = read(f"data/{resource}.parquet")
    if parquet is not None:
        return _coerce(pd.read_parquet(io.BytesIO(parquet)), entry["schema"])
    return _read_csv(read(entry["path"]), entry["schema"])


def _from_folder(folder: Path, resource: str) -> pd.DataFrame:
    def read(name: str) -> bytes | None:
        path = folder / name
        return path.read_bytes() if path.exists() else None

    return _from_package(read, str(folder), resource)


def _from_zip(path: Path, resource: str) -> pd.DataFrame:
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        root = next(iter(names)).split("/")[0]

        def read(name: str) -> bytes | None:
            member = f"{root}/{name}"
            return zf.read(member) if member in names else None

        return _from_package(read, str(path), resource)


def load(
    resource: str,
    version: str | None = None,
    source: str | Path | None = None,
    sha256: str | None = None,
) -> pd.DataFrame:
    """One table of the package.

    - ``source`` None: the local ``dist/`` folder, ``version`` (default: the newest built).
    - ``source`` a folder or a zip: that package.
    - ``source`` an http(s) URL of a package zip: downloaded once (cached by pooch) and checked
      against ``sha256`` when given: pin both version and checksum for the same bytes forever.
    """
    if source is None:
        dist = Settings.from_env().dist
        versions = list_versions(dist)
        if not versions:
            raise InputError(str(dist), "no package has been built here: run `make build`")
        chosen = version or versions[-1]
        if chosen not in versions:
            raise InputError(str(dist), f"version {chosen} is not built here (have: {', '.join(versions)})")
        return _from_folder(dist / chosen, resource)
    text = str(source)
    if text.startswith(("http://", "https://")):
        path = Path(pooch.retrieve(text, known_hash=f"sha256:{sha256}" if sha256 else None, progressbar=False))
        return _from_zip(path, resource)
    path = Path(source)
    if path.is_dir():
        if version and (path / version).is_dir():
            path = path / version
        return _from_folder(path, resource)
    if path.suffix == ".zip" and path.exists():
        return _from_zip(path, resource)
    raise InputError(text, "not a package folder, a package zip or an http(s) URL")
