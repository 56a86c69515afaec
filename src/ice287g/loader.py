"""Load a published table: from a version folder, a zip, or a URL pinned by sha256.

Parquet is read when the package has it (exact types); otherwise the CSV is parsed with the
types its Table Schema declares.
"""

from __future__ import annotations

import io
import json
import zipfile
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


def _read_csv(data: bytes | Path, schema: dict) -> pd.DataFrame:
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    frame = pd.read_csv(source, dtype=str, keep_default_na=False, na_values=[""])
    for field in schema["fields"]:
        if field["type"] == "boolean":
            frame[field["name"]] = frame[field["name"]].map({"true": True, "false": False})
    return _coerce(frame, schema)


def _from_folder(folder: Path, resource: str) -> pd.DataFrame:
    descriptor = json.loads((folder / "datapackage.json").read_text())
    entry = next((r for r in descriptor["resources"] if r["name"] == resource), None)
    if entry is None:
        raise InputError(str(folder), f"no resource {resource!r} in this package")
    parquet = folder / "data" / f"{resource}.parquet"
    if parquet.exists():
        return _coerce(pd.read_parquet(parquet), entry["schema"])
    return _read_csv(folder / entry["path"], entry["schema"])


def _from_zip(path: Path, resource: str) -> pd.DataFrame:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        root = names[0].split("/")[0]
        descriptor = json.loads(zf.read(f"{root}/datapackage.json"))
        entry = next((r for r in descriptor["resources"] if r["name"] == resource), None)
        if entry is None:
            raise InputError(str(path), f"no resource {resource!r} in this package")
        parquet = f"{root}/data/{resource}.parquet"
        if parquet in names:
            return _coerce(pd.read_parquet(io.BytesIO(zf.read(parquet))), entry["schema"])
        return _read_csv(zf.read(f"{root}/{entry['path']}"), entry["schema"])


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
