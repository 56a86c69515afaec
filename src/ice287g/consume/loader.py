"""Load a published table, every byte checked, optionally as the lists stood on a given day.

``load(table, version=None, source=None, sha256=None, as_of=None)``

Where the package is:

- no ``source``: the newest version built in ``dist/`` (``ICE287G_DIST_DIR``), or ``version``;
  when none is built, the release committed at the checkout root (``datapackage.json`` + ``data/``);
  a ``version`` that is neither is read back from the checkout's git history (the commit that
  released it, no tag needed: ``ice287g.consume.history``), its tables checked against the checksums
  its line of ``releases.csv`` records.
- ``source`` a folder holding ``datapackage.json`` (or a folder of version folders, like ``dist/``:
  ``version``, else the newest); a path to a ``datapackage.json``; a package zip; an http(s) URL of
  a zip or of a ``datapackage.json`` (every other file is then fetched relative to that URL).
- A zip holding several ``datapackage.json`` uses the shallowest (fewest ``/`` in its member name),
  then the lexicographically smallest member name; that member's folder is the package.
- ``version`` with any source: the package's own ``version`` must be it.

What is checked before a table is returned:

- ``sha256`` pins the bytes of the source: for a zip (path or URL) the SHA-256 of the zip, for any
  other source the SHA-256 of the ``datapackage.json`` bytes. A mismatch raises ChecksumMismatch
  (an InputError, and a ValueError as pooch's own check was) naming the source.
- A CSV must have the ``bytes`` and ``hash`` its descriptor entry gives.
- A Parquet is read instead of the CSV only when ``SHA256SUMS`` lists it, and must match that line;
  a Parquet it does not list is not trusted (the CSV is read). ``SHA256SUMS`` must list the
  descriptor as it is. With only ``datapackage.json`` pinned, ``SHA256SUMS`` and the Parquet files
  are outside the pin, so the (pinned) CSV is read.
- Any mismatch raises InputError naming the file and what differed.

Downloads: a file whose checksum is known beforehand (a pinned zip or descriptor, a CSV, a listed
Parquet) is cached by that checksum in ``pooch.os_cache("ice287g")``; an unpinned zip URL is
cached by its URL, as pooch does; an unpinned descriptor and ``SHA256SUMS`` are fetched each time.

Types: the same pandas dtypes whichever file was read: nullable integers and booleans, strings,
``datetime64[us]`` dates and UTC ``datetime64[us]`` timestamps.

``as_of`` (a date, a datetime, or an ISO ``YYYY-MM-DD`` string), for ``listings`` and ``agreements``
only: for each list, the publication in effect on that day is the one with the greatest ``sequence``
among the package's ``publications`` of that list published on or before it. A ``listings`` span
(or an ``agreement_periods`` period, for ``agreements``, on the participating list) is in effect when
its first publication's sequence is at most that one and its last publication is empty (still
listed) or has a sequence at least that one. Before a list's first publication, nothing of it is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import posixpath
import re
import tempfile
import urllib.parse
import zipfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pooch

from ice287g.consume.versions import list_versions
from ice287g.errors import InputError
from ice287g.util import inflate
from ice287g.util.hashing import parse_sums, sha256_of

PANDAS_TYPES = {"integer": "Int64", "boolean": "boolean", "number": "Float64", "string": "string"}
DESCRIPTOR = "datapackage.json"
SUMS = "SHA256SUMS"
AS_OF_TABLES = ("listings", "agreements")
# A member of a package zip is inflated at most to this: the largest table of a release is about
# 6 MB as CSV, and a zip that claims more is no package of ours (a 1 GiB member once filled /tmp).
MAX_MEMBER_BYTES = 256 * 2**20
# Beside a committed release while it is being replaced (ice287g.publish.committed.ReleaseTransaction):
# its files are then part old, part new, and the next command that writes it finishes the job.
RELEASE_JOURNAL = ".release-journal.json"
CACHE_NAME = "ice287g"

# (path relative to the package folder, expected "<algorithm>:<hex>" or None) -> bytes, None if absent
Reader = Callable[[str, str | None], bytes | None]


class ChecksumMismatch(InputError, ValueError):
    """The source's bytes do not match the ``sha256`` pin."""


# --- types -------------------------------------------------------------------------------------


def _coerce(frame: pd.DataFrame, schema: dict) -> pd.DataFrame:
    """The same pandas dtypes whichever file a table was read from: nullable ints and booleans,
    strings, datetime64 for dates and UTC-aware datetime64 for timestamps."""
    for field_ in schema["fields"]:
        name, kind = field_["name"], field_["type"]
        if kind == "date":
            frame[name] = pd.to_datetime(frame[name]).astype("datetime64[us]")
        elif kind == "datetime":
            frame[name] = pd.to_datetime(frame[name], utc=True).dt.as_unit("us")
        else:
            frame[name] = frame[name].astype(PANDAS_TYPES.get(kind, "string"))
    return frame


def _check_columns(frame: pd.DataFrame, schema: dict, label: str) -> None:
    expected = [f["name"] for f in schema["fields"]]
    if list(frame.columns) != expected:
        raise InputError(label, f"has columns {list(frame.columns)}, but its Table Schema says {expected}")


def _read_csv(data: bytes, schema: dict, label: str) -> pd.DataFrame:
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""])
    _check_columns(frame, schema, label)
    for field_ in schema["fields"]:
        if field_["type"] == "boolean":
            frame[field_["name"]] = frame[field_["name"]].map({"true": True, "false": False})
    return _coerce(frame, schema)


def _read_parquet(data: bytes, schema: dict, label: str) -> pd.DataFrame:
    frame = pd.read_parquet(io.BytesIO(data))
    _check_columns(frame, schema, label)
    return _coerce(frame, schema)


# --- checksums ---------------------------------------------------------------------------------


def _split_digest(digest: str, label: str) -> tuple[str, str]:
    """``"sha256:<hex>"`` -> ("sha256", hex); a bare hex is MD5 (Frictionless's default)."""
    algorithm, _, value = digest.rpartition(":")
    algorithm = (algorithm or "md5").lower()
    if algorithm not in hashlib.algorithms_available:
        raise InputError(label, f"unknown hash algorithm {algorithm!r} in {digest!r}")
    return algorithm, value.lower()


def _hexdigest(data: bytes, algorithm: str = "sha256") -> str:
    return hashlib.new(algorithm, data).hexdigest()


def _verify(label: str, data: bytes, digest: str, size: int | None, authority: str) -> None:
    if size is not None and len(data) != size:
        raise InputError(label, f"has {len(data)} bytes, but {authority} says {size}: it was cut short or changed")
    algorithm, expected = _split_digest(digest, label)
    actual = _hexdigest(data, algorithm)
    if actual != expected:
        raise InputError(label, f"has {algorithm} {actual}, but {authority} says {expected}: it was changed")


def _pin(sha256: str | None) -> str | None:
    if sha256 is None:
        return None
    value = sha256.strip().lower().removeprefix("sha256:")
    if not re.fullmatch(r"[0-9a-f]{64}", value):
        raise InputError(str(sha256), "a sha256 pin is 64 hexadecimal digits (optionally after 'sha256:')")
    return value


def _relative(path: object, label: str) -> str:
    """A resource path inside the package: relative, POSIX, not leaving the package folder."""
    if (
        not isinstance(path, str)
        or not path
        or path.startswith(("/", "\\"))
        or "\\" in path
        or ":" in path
        or posixpath.normpath(path).split("/")[0] == ".."
    ):
        raise InputError(label, f"resource path {path!r} is not a relative path inside the package")
    return posixpath.normpath(path)


# --- the package -------------------------------------------------------------------------------


@dataclass
class _Package:
    where: str  # the source, as errors name it
    read: Reader
    label: Callable[[str], str]  # how errors name a file of the package
    descriptor: dict
    sums: dict[str, str] | None  # SHA256SUMS, when present and trusted
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        if name not in self.tables:
            self.tables[name] = self._read_table(name)
        return self.tables[name].copy()

    def _read_table(self, name: str) -> pd.DataFrame:
        resources = self.descriptor.get("resources") or []
        entry = next((r for r in resources if r.get("name") == name), None)
        if entry is None:
            have = ", ".join(r.get("name", "?") for r in resources)
            raise InputError(self.where, f"no resource {name!r} in this package (has: {have})")
        csv_path = _relative(entry.get("path"), self.label(DESCRIPTOR))
        schema = entry.get("schema")
        if not isinstance(schema, dict) or not isinstance(schema.get("fields"), list):
            raise InputError(self.label(DESCRIPTOR), f"resource {name!r} has no Table Schema with fields")
        if self.sums is not None:
            parquet_path = posixpath.splitext(csv_path)[0] + ".parquet"
            listed = self.sums.get(parquet_path)
            if listed is not None:
                data = self.read(parquet_path, f"sha256:{listed}")
                if data is not None:
                    _verify(self.label(parquet_path), data, f"sha256:{listed}", None, SUMS)
                    return _read_parquet(data, schema, self.label(parquet_path))
        label = self.label(csv_path)
        if not entry.get("hash"):
            raise InputError(label, "the descriptor gives no hash for this file, so it cannot be checked")
        data = self.read(csv_path, entry["hash"])
        if data is None:
            raise InputError(label, "is missing, but the descriptor lists it")
        _verify(label, data, entry["hash"], entry.get("bytes"), "the descriptor")
        return _read_csv(data, schema, label)


def _open(
    where: str,
    read: Reader,
    label: Callable[[str], str],
    *,
    descriptor_name: str = DESCRIPTOR,
    descriptor_pin: str | None = None,
    remote: bool = False,
    version: str | None = None,
) -> _Package:
    """The package whose files ``read`` returns; ``descriptor_pin`` pins the descriptor's bytes."""
    raw = read(descriptor_name, f"sha256:{descriptor_pin}" if descriptor_pin else None)
    if raw is None:
        raise InputError(label(descriptor_name), "not found: no package here")
    actual = _hexdigest(raw)
    if descriptor_pin and actual != descriptor_pin:
        what = f"downloaded file {descriptor_name}" if remote else descriptor_name
        raise ChecksumMismatch(where, f"SHA256 hash of {what} is {actual}, not the pinned {descriptor_pin}")
    try:
        descriptor = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(label(descriptor_name), f"not a JSON descriptor ({exc})") from exc
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("resources"), list):
        raise InputError(label(descriptor_name), "not a data package descriptor: no resources")
    if version is not None and str(descriptor.get("version")) != version:
        raise InputError(where, f"this package is version {descriptor.get('version')}, not {version}")
    sums = None
    if not descriptor_pin:  # a pinned descriptor does not cover SHA256SUMS: read only what it pins
        data = read(SUMS, None)
        if data is not None:
            sums = parse_sums(data, label(SUMS))
            listed = sums.get(posixpath.normpath(descriptor_name))
            if listed is not None and listed != actual:
                raise InputError(
                    label(SUMS),
                    f"lists {descriptor_name} with sha256 {listed}, but it has {actual}: "
                    "the descriptor was changed after the package was built",
                )
    return _Package(where, read, label, descriptor, sums)


def _folder_reader(folder: Path) -> tuple[Reader, Callable[[str], str]]:
    if (folder / RELEASE_JOURNAL).exists():
        raise InputError(
            str(folder),
            "the release here is being replaced, by a command that was interrupted or is still writing: "
            "`ice287g build` (or the next command that writes it) finishes the replacement",
        )

    def read(name: str, _digest: str | None = None) -> bytes | None:
        path = folder / name
        return path.read_bytes() if path.is_file() else None

    return read, lambda name: str(folder / name)


def zip_package_prefix(names: list[str], where: str) -> str:
    """The folder (member prefix) of a zip's package: the shallowest ``datapackage.json``, ties
    broken by the smallest name, so the choice never depends on the zip's order or hash seeds."""
    candidates = [n for n in names if posixpath.basename(n) == DESCRIPTOR]
    if not candidates:
        raise InputError(where, "no datapackage.json in this zip")
    return min(candidates, key=lambda n: (n.count("/"), n))[: -len(DESCRIPTOR)]


def _open_zip(zf: zipfile.ZipFile, where: str, version: str | None) -> _Package:
    """The package of the zip (zip_package_prefix) and its files."""
    prefix = zip_package_prefix(zf.namelist(), where)
    names = set(zf.namelist())

    def label(name: str) -> str:
        return f"{where}/{prefix}{name}"

    def read(name: str, _digest: str | None = None) -> bytes | None:
        member = prefix + name
        if member not in names:
            return None
        try:
            return inflate.read(zf, member, MAX_MEMBER_BYTES, label(name))
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(label(name), f"cannot be read from the zip: {exc}") from exc

    return _open(where, read, label, version=version)


def _zip_file(stack: ExitStack, file: Path | io.BytesIO, where: str) -> zipfile.ZipFile:
    try:
        return stack.enter_context(zipfile.ZipFile(file))
    except zipfile.BadZipFile as exc:
        raise InputError(where, f"not a zip file ({exc})") from exc


# --- downloads ---------------------------------------------------------------------------------


def _cache() -> Path:
    return Path(pooch.os_cache(CACHE_NAME))


def _download(url: str) -> bytes | None:
    """The bytes at ``url`` (None: HTTP 404), with pooch's downloader."""
    import requests  # pooch's own dependency

    buffer = io.BytesIO()
    try:
        pooch.HTTPDownloader(progressbar=False)(url, buffer, None)
    except requests.HTTPError as exc:
        if exc.response is not None and exc.response.status_code == 404:
            return None
        raise InputError(url, f"download failed: {exc}") from exc
    except requests.RequestException as exc:
        raise InputError(url, f"download failed: {exc}") from exc
    return buffer.getvalue()


def _cached_download(url: str, digest: str) -> bytes | None:
    """The bytes at ``url``, kept in the cache under their expected checksum. Bytes that do not
    match are returned (for the caller's error) but never cached; a cached file that no longer
    matches is fetched again."""
    algorithm, expected = _split_digest(digest, url)
    basename = posixpath.basename(urllib.parse.urlparse(url).path) or "file"
    target = _cache() / f"{algorithm}-{expected}-{basename}"[:255]
    if target.is_file():
        data = target.read_bytes()
        if _hexdigest(data, algorithm) == expected:
            return data
    data = _download(url)
    if data is not None and _hexdigest(data, algorithm) == expected:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as handle:
                handle.write(data)
            os.replace(handle.name, target)
        except OSError:  # a read-only cache only costs a download next time
            pass
    return data


def _url_reader(url: str, descriptor_name: str) -> tuple[Reader, Callable[[str], str]]:
    def url_of(name: str) -> str:
        return url if name == descriptor_name else urllib.parse.urljoin(url, name)

    def read(name: str, digest: str | None) -> bytes | None:
        return _download(url_of(name)) if digest is None else _cached_download(url_of(name), digest)

    return read, url_of


def _open_url(url: str, pin: str | None, version: str | None, stack: ExitStack) -> _Package:
    path = urllib.parse.urlparse(url).path
    if path.endswith(".zip"):
        if pin:
            data = _cached_download(url, f"sha256:{pin}")
            if data is None:
                raise InputError(url, "not found (HTTP 404)")
            actual = _hexdigest(data)
            if actual != pin:
                raise ChecksumMismatch(url, f"SHA256 hash of downloaded file is {actual}, not the pinned {pin}")
            return _open_zip(_zip_file(stack, io.BytesIO(data), url), url, version)
        import requests

        try:  # unpinned: cached by URL, as pooch does (a published version never changes)
            local = pooch.retrieve(url, known_hash=None, path=_cache(), progressbar=False)
        except requests.RequestException as exc:
            raise InputError(url, f"download failed: {exc}") from exc
        return _open_zip(_zip_file(stack, Path(local), url), url, version)
    if path.endswith("/"):
        url, path = urllib.parse.urljoin(url, DESCRIPTOR), path + DESCRIPTOR
    if not path.endswith(".json"):
        raise InputError(url, "an http(s) source is the URL of a package zip or of its datapackage.json")
    name = posixpath.basename(path)
    read, label = _url_reader(url, name)
    return _open(url, read, label, descriptor_name=name, descriptor_pin=pin, remote=True, version=version)


# --- where the package is ----------------------------------------------------------------------


def _default_folder(version: str | None, stack: ExitStack) -> Path:
    """The newest (or ``version``) built in dist/; else the release committed at the root; else,
    for a ``version``, that release read back from the checkout's git history."""
    from ice287g.settings import Settings

    settings = Settings.from_env()
    dist = settings.dist
    built = list_versions(dist)
    if built and version is None:
        return dist / built[-1]
    if version in built:
        return dist / version
    root = settings.release
    committed = root / DESCRIPTOR
    if committed.is_file():
        if version is None:
            return root
        try:
            committed_version = json.loads(committed.read_bytes()).get("version")
        except (ValueError, AttributeError):
            committed_version = None
        if committed_version == version:
            return root
    if version is None:
        raise InputError(str(dist), f"no package is built here and none is committed at {root}: run `make build`")
    from ice287g.consume import history

    try:
        history.recorded_line(settings.root, version)
    except InputError as exc:
        have = ", ".join(built) or "none"
        raise InputError(
            str(dist), f"version {version} is not built here (built: {have}) nor committed at {root}, and {exc.problem}"
        ) from None
    work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ice287g-release-")))
    return history.export(settings.root, version, work / version)


def _open_source(source: str | os.PathLike | None, version: str | None, pin: str | None, stack: ExitStack) -> _Package:
    if source is None:
        folder = _default_folder(version, stack)
        read, label = _folder_reader(folder)
        return _open(str(folder), read, label, descriptor_pin=pin, version=version)
    text = os.fspath(source)
    if text.startswith(("http://", "https://")):
        return _open_url(text, pin, version, stack)
    path = Path(text).expanduser()
    if path.is_dir():
        if version and (path / version).is_dir():
            path = path / version
        elif not (path / DESCRIPTOR).is_file() and (versions := list_versions(path)):
            path = path / versions[-1]  # a folder of versions, like dist/: the newest
        read, label = _folder_reader(path)
        return _open(str(path), read, label, descriptor_pin=pin, version=version)
    if path.is_file():
        if zipfile.is_zipfile(path):
            if pin:
                actual = sha256_of(path)
                if actual != pin:
                    raise ChecksumMismatch(text, f"SHA256 hash of the zip is {actual}, not the pinned {pin}")
            return _open_zip(_zip_file(stack, path, text), text, version)
        if path.suffix == ".json":
            read, label = _folder_reader(path.parent)
            return _open(text, read, label, descriptor_name=path.name, descriptor_pin=pin, version=version)
        raise InputError(text, "not a package folder, a datapackage.json, a package zip or an http(s) URL")
    raise InputError(text, "no such file or folder")


# --- as of a day -------------------------------------------------------------------------------


def _day(as_of: object) -> pd.Timestamp:
    if isinstance(as_of, dt.datetime):  # also pandas.Timestamp
        day = as_of.date()
    elif isinstance(as_of, dt.date):
        day = as_of
    elif isinstance(as_of, str):
        try:
            day = dt.date.fromisoformat(as_of.strip()[:10])
        except ValueError as exc:
            raise InputError(f"as_of={as_of!r}", "not an ISO date (YYYY-MM-DD)") from exc
    else:
        raise InputError(f"as_of={as_of!r}", "as_of is a date, a datetime or an ISO date string")
    return pd.Timestamp(day)


def _in_effect(package: _Package, day: pd.Timestamp, spans: pd.DataFrame, lists: pd.Series, table: str) -> pd.Series:
    """Which spans (first/last_publication_id) are on the publication of their list in effect on ``day``."""
    publications = package.table("publications")
    sequence = publications.set_index("publication_id")["sequence"].astype("Float64")
    list_of = publications.set_index("publication_id")["list"]
    published = publications[(publications["published_date"] <= day) & publications["sequence"].notna()]
    effective = published.groupby("list")["sequence"].max().astype("Float64")

    first, last = spans["first_publication_id"], spans["last_publication_id"].fillna("")
    named = set(first.dropna()) | set(last[last != ""])
    unknown = sorted(named - set(publications["publication_id"]))
    if unknown:
        raise InputError(f"{package.where} ({table})", f"names publications missing from publications: {unknown[:5]}")
    wrong = spans[(first.map(list_of).astype("string") != lists.astype("string")).fillna(True)]
    if len(wrong):
        raise InputError(f"{package.where} ({table})", f"{len(wrong)} rows start on no publication of their list")

    target = lists.map(effective).astype("Float64")
    starts = (first.map(sequence).astype("Float64") <= target).fillna(False)
    still = (last == "") | (last.map(sequence).astype("Float64") >= target).fillna(False)
    return (target.notna() & starts & still).astype(bool)


def _as_of(package: _Package, table: str, day: pd.Timestamp) -> pd.DataFrame:
    if table == "listings":
        listings = package.table("listings")
        spans = listings
        if "first_publication_id" not in listings.columns and "publication_id" in listings.columns:
            # packages before validity spans: one row per publication, a span of one publication
            ids = listings["publication_id"]
            spans = pd.DataFrame({"first_publication_id": ids, "last_publication_id": ids})
        keep = _in_effect(package, day, spans, listings["list"], "listings")
        return listings[keep.to_numpy()].reset_index(drop=True)
    periods = package.table("agreement_periods")
    participating = pd.Series("participating", index=periods.index, dtype="string")
    keep = _in_effect(package, day, periods, participating, "agreement_periods")
    listed = set(periods.loc[keep.to_numpy(), "agreement_id"])
    agreements = package.table("agreements")
    return agreements[agreements["agreement_id"].isin(listed).to_numpy()].reset_index(drop=True)


# --- the one entry point -----------------------------------------------------------------------


def load(
    table: str,
    version: str | None = None,
    source: str | os.PathLike | None = None,
    sha256: str | None = None,
    as_of: str | dt.date | None = None,
) -> pd.DataFrame:
    """One table of the package, as a pandas DataFrame (see the module's docstring).

    - ``source`` None: the newest version built in ``dist/`` (or ``version``), else the release
      committed at the checkout root. Otherwise a folder, a ``datapackage.json``, a zip, or the
      http(s) URL of a zip or of a ``datapackage.json``.
    - ``sha256``: the zip's SHA-256 for a zip, else the SHA-256 of ``datapackage.json``; pin the
      version and the checksum to get the same bytes forever.
    - ``as_of``: for ``listings`` and ``agreements``, only the rows in effect on that day.
    """
    pin = _pin(sha256)
    day = None
    if as_of is not None:
        if table not in AS_OF_TABLES:
            raise InputError(
                f"load({table!r}, as_of=...)",
                f"as_of applies to {' and '.join(AS_OF_TABLES)} only: {table!r} is not a list in effect on a day",
            )
        day = _day(as_of)
    with ExitStack() as stack:
        package = _open_source(source, version, pin, stack)
        if day is None:
            return package.table(table)
        return _as_of(package, table, day)
