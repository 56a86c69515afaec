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

``as_of`` (a date, a datetime, or an ISO ``YYYY-MM-DD`` string): the state of one day, for
``listings`` and ``agreements`` only.

- The list in effect on a day is, of its list (participating or pending), the publication with the
  greatest ``sequence`` among the package's ``publications`` published on or before it. A day before
  the list's first publication, or after its newest in this package, is an error: the package knows
  nothing of that day (a newer version may).
- ``listings`` with ``as_of`` needs ``list="participating"`` or ``list="pending"``: the rows of that
  list in effect, one per row ICE published (a span is in effect when its first publication's
  sequence is at most the day's and its last is empty or at least the day's).
- ``agreements`` with ``as_of``: the agreements with a period (``agreement_periods``) in effect on
  the participating list. One agreement listed on two rows is one agreement: on 2025-07-01 ICE's
  list had 744 rows for 742 agreements, two Florida agencies listed twice under two spellings; the
  column ``as_of_row_count`` says how many rows listed each one that day, where the package has
  ``listings``.
- An ``as_of`` frame carries that day's state only: the columns that describe later lists (a
  listing's ``last_*``; an agreement's ``last_listed_date``, ``status``, ``superseded_by``,
  ``period_count``, ``signed_dates_listed``, ``is_redated``, ``agency_ids_listed``) are left out, and
  ``as_of_publication_id`` names the publication in effect.
- ``list`` without ``as_of`` keeps the ``listings`` rows of that list.

Optional libraries: pyarrow, to read Parquet (without it the CSV is read, with the same types);
pooch, to fetch a URL (``pip install pooch``; nothing else needs it). Otherwise only pandas.
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

from ..errors import InputError
from ..util import inflate
from ..util.hashing import parse_sums, sha256_of
from .versions import list_versions

PANDAS_TYPES = {"integer": "Int64", "boolean": "boolean", "number": "Float64", "string": "string"}
DESCRIPTOR = "datapackage.json"
SUMS = "SHA256SUMS"
AS_OF_TABLES = ("listings", "agreements")
LISTS = ("participating", "pending")
# What an as_of frame leaves out: columns that describe lists published after the day.
LATER_COLUMNS = {
    "listings": ("last_publication_id", "last_listed_date"),
    "agreements": (
        "last_listed_date",
        "status",
        "superseded_by",
        "period_count",
        "signed_dates_listed",
        "is_redated",
        "agency_ids_listed",
    ),
}
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
    """Bytes that are not the ones recorded for them: the source against the ``sha256`` pin, a
    file against its descriptor entry or its ``SHA256SUMS`` line (cut short, or changed)."""


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


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


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
        raise ChecksumMismatch(
            label, f"has {len(data)} bytes, but {authority} says {size}: it was cut short or changed"
        )
    algorithm, expected = _split_digest(digest, label)
    actual = _hexdigest(data, algorithm)
    if actual != expected:
        raise ChecksumMismatch(label, f"has {algorithm} {actual}, but {authority} says {expected}: it was changed")


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
            if listed is not None and _has_pyarrow():
                data = self.checked_listed(parquet_path, listed)
                if data is not None:
                    return _read_parquet(data, schema, self.label(parquet_path))
        return _read_csv(self.checked_csv(entry, csv_path), schema, self.label(csv_path))

    def checked_csv(self, entry: dict, csv_path: str) -> bytes:
        """The bytes of a resource's CSV (at ``csv_path``), checked against its descriptor entry."""
        label = self.label(csv_path)
        if not entry.get("hash"):
            raise InputError(label, "the descriptor gives no hash for this file, so it cannot be checked")
        data = self.read(csv_path, entry["hash"])
        if data is None:
            raise InputError(label, "is missing, but the descriptor lists it")
        _verify(label, data, entry["hash"], entry.get("bytes"), "the descriptor")
        return data

    def checked_listed(self, path: str, digest: str) -> bytes | None:
        """The bytes of a file SHA256SUMS lists with ``digest``, checked against it; None if absent."""
        data = self.read(path, f"sha256:{digest}")
        if data is not None:
            _verify(self.label(path), data, f"sha256:{digest}", None, SUMS)
        return data


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


def verified_files(folder: Path) -> list[str]:
    """Every file of the package in ``folder`` (relative POSIX paths, sorted), once each matches
    what the package records for it: ``datapackage.json`` and what ``SHA256SUMS`` lists against it,
    every resource's CSV against its ``bytes`` and ``hash``. InputError names the first that does not."""
    read, label = _folder_reader(folder)
    package = _open(str(folder), read, label)
    files = {DESCRIPTOR}
    if package.sums is not None:
        files.add(SUMS)
        for name, digest in package.sums.items():
            path = _relative(name, label(SUMS))
            if package.checked_listed(path, digest) is None:
                raise InputError(label(path), f"is listed in {SUMS} but missing")
            files.add(path)
    for entry in package.descriptor["resources"]:
        path = _relative(entry.get("path"), label(DESCRIPTOR))
        package.checked_csv(entry, path)
        files.add(path)
    return sorted(files)


# --- downloads ---------------------------------------------------------------------------------


def _pooch():
    """pooch, which fetches and caches URLs; only a URL source needs it."""
    try:
        import pooch
    except ImportError:
        raise InputError("pooch", "not installed: reading a package from a URL needs it (pip install pooch)") from None
    return pooch


def _cache() -> Path:
    return Path(_pooch().os_cache(CACHE_NAME))


def _download(url: str) -> bytes | None:
    """The bytes at ``url`` (None: HTTP 404), with pooch's downloader."""
    pooch = _pooch()
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
        pooch = _pooch()
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
    from ..settings import Settings

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
    from . import history

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


def _effective_publication(package: _Package, list_: str, day: pd.Timestamp) -> pd.Series:
    """The publication of ``list_`` in effect on ``day`` (a row of ``publications``); an error for a
    day before the list's first publication or after its newest in this package."""
    publications = package.table("publications")
    of_list = publications[(publications["list"] == list_) & publications["sequence"].notna()]
    if of_list.empty:
        raise InputError(package.where, f"has no {list_} list, so nothing of it was in effect on a day")
    first, newest = of_list["published_date"].min(), of_list["published_date"].max()
    version = package.descriptor.get("version", "?")
    if day < first:
        raise InputError(
            f"as_of={day.date()}",
            f"is before the first {list_} list of this package ({first.date()}): nothing of it was in effect",
        )
    if day > newest:
        raise InputError(
            f"as_of={day.date()}",
            f"is after the newest {list_} list of version {version} ({newest.date()}): this package cannot "
            "know that day's list; a newer version may",
        )
    published = of_list[of_list["published_date"] <= day]
    return published.loc[published["sequence"].astype("Float64").idxmax()]


def _in_effect(package: _Package, effective: pd.Series, spans: pd.DataFrame, lists: pd.Series, table: str) -> pd.Series:
    """Which spans (first/last_publication_id, each of the list in ``lists``) are on ``effective``,
    a publication of one list; a span that starts on a publication of another list is an error."""
    publications = package.table("publications")
    sequence = publications.set_index("publication_id")["sequence"].astype("Float64")
    list_of = publications.set_index("publication_id")["list"]
    first, last = spans["first_publication_id"], spans["last_publication_id"].fillna("")
    named = set(first.dropna()) | set(last[last != ""])
    unknown = sorted(named - set(publications["publication_id"]))
    if unknown:
        raise InputError(f"{package.where} ({table})", f"names publications missing from publications: {unknown[:5]}")
    wrong = spans[(first.map(list_of).astype("string") != lists.astype("string")).fillna(True)]
    if len(wrong):
        raise InputError(f"{package.where} ({table})", f"{len(wrong)} rows start on no publication of their list")
    of_list = (lists.astype("string") == effective["list"]).fillna(False)
    target = float(effective["sequence"])
    starts = (first.map(sequence).astype("Float64") <= target).fillna(False)
    still = (last == "") | (last.map(sequence).astype("Float64") >= target).fillna(False)
    return (of_list & starts & still).astype(bool)


def _listing_spans(listings: pd.DataFrame) -> pd.DataFrame:
    if "first_publication_id" not in listings.columns and "publication_id" in listings.columns:
        # packages before validity spans: one row per publication, a span of one publication
        ids = listings["publication_id"]
        return pd.DataFrame({"first_publication_id": ids, "last_publication_id": ids})
    return listings


def _as_of(package: _Package, table: str, day: pd.Timestamp, list_: str) -> pd.DataFrame:
    """``table`` as it stood on ``day`` on ``list_`` (see the module's docstring)."""
    effective = _effective_publication(package, list_, day)
    listings = package.table("listings") if table == "listings" or _has_table(package, "listings") else None
    listed = None
    if listings is not None:
        keep = _in_effect(package, effective, _listing_spans(listings), listings["list"], "listings")
        listed = listings[keep.to_numpy()]
    if table == "listings":
        frame = listed.reset_index(drop=True)
    else:
        periods = package.table("agreement_periods")
        participating = pd.Series("participating", index=periods.index, dtype="string")
        keep = _in_effect(package, effective, periods, participating, "agreement_periods")
        ids = set(periods.loc[keep.to_numpy(), "agreement_id"])
        agreements = package.table("agreements")
        frame = agreements[agreements["agreement_id"].isin(ids).to_numpy()].reset_index(drop=True)
        if listed is not None and "agreement_id" in listed.columns:
            rows = listed["agreement_id"].value_counts()
            frame["as_of_row_count"] = frame["agreement_id"].map(rows).fillna(0).astype("Int64")
    frame = frame.drop(columns=[c for c in LATER_COLUMNS[table] if c in frame.columns])
    frame["as_of_publication_id"] = pd.Series(effective["publication_id"], index=frame.index, dtype="string")
    return frame


def _has_table(package: _Package, name: str) -> bool:
    return any(r.get("name") == name for r in package.descriptor.get("resources") or [])


# --- the one entry point -----------------------------------------------------------------------


def load(
    table: str,
    version: str | None = None,
    source: str | os.PathLike | None = None,
    sha256: str | None = None,
    as_of: str | dt.date | None = None,
    list: str | None = None,  # named as the column it filters, though it shadows the builtin
) -> pd.DataFrame:
    """One table of the package, as a pandas DataFrame (see the module's docstring).

    - ``source`` None: the newest version built in ``dist/`` (or ``version``), else the release
      committed at the checkout root. Otherwise a folder, a ``datapackage.json``, a zip, or the
      http(s) URL of a zip or of a ``datapackage.json``.
    - ``sha256``: the zip's SHA-256 for a zip, else the SHA-256 of ``datapackage.json``; pin the
      version and the checksum to get the same bytes forever.
    - ``as_of``: for ``listings`` (with ``list``) and ``agreements``, that day's state only: the
      rows in effect, without the columns that describe later lists. A day outside the package's
      lists is an error.
    - ``list``: ``participating`` or ``pending``, for ``listings`` only (needed with ``as_of``).
    """
    pin = _pin(sha256)
    list_ = _list_argument(table, list, as_of is not None)
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
        if day is not None:
            return _as_of(package, table, day, list_ or "participating")
        frame = package.table(table)
        if list_ is None:
            return frame
        return frame[(frame["list"] == list_).to_numpy()].reset_index(drop=True)


def _list_argument(table: str, value: str | None, as_of: bool) -> str | None:
    where = f"load({table!r}, list={value!r})"
    if value is not None and value not in LISTS:
        raise InputError(where, f"list is {' or '.join(LISTS)}")
    if table == "agreements" and value not in (None, "participating"):
        raise InputError(where, "agreements are on the participating list only")
    if table not in ("listings", "agreements") and value is not None:
        raise InputError(where, "list applies to listings only")
    if table == "listings" and as_of and value is None:
        raise InputError(
            "load('listings', as_of=...)",
            "needs list='participating' or list='pending': the two lists are published apart, "
            "so a day's rows are of one list",
        )
    return None if table == "agreements" else value
