"""The sources registry: the committed list of every raw snapshot the package is built from.

One CSV row per byte-distinct file, keyed by sha256, with its provenance and the claims its
name makes. The file is written sorted and with fixed formatting so that it diffs cleanly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, fields
from pathlib import Path

from ice287g.csvfile import manifest_rows, read_rows, rows_text, write_atomically
from ice287g.errors import InputError
from ice287g.names import parse_name


@dataclass(frozen=True)
class Entry:
    """One registered snapshot file: a row of ``sources/snapshots.csv``.

    - ``file_sha256``: SHA-256 of the file's bytes; the snapshot's identity.
    - ``file_name``: The file's name as the publisher or archive gave it.
    - ``bytes``: Size of the file in bytes.
    - ``claimed_list``: The list the name claims (participating or pending); checked against contents.
    - ``claimed_date``: The publication date ICE's name claims (ISO), empty when the name has none or it is not a date.
    - ``claimed_date_text``: The digits of the name's date exactly as written, kept for typos.
    - ``claimed_slot``: The time of day the name claims (am, mid, pm).
    - ``captured_at``: When the file was captured (UTC), where known: Wayback timestamp, archive folder or acquire time.
    - ``archive``: The public archive (or 'maintainer' / 'ice.gov') the file came from.
    - ``archive_commit``: The archive commit that holds the file.
    - ``archive_path``: The file's path inside that archive.
    - ``archived_at``: When the archive first committed the file (UTC): an upper bound on capture.
    - ``url``: Pinned download URL; what it serves must match file_sha256.
    - ``mirror_path``: The file's path relative to the mirror folder, where it has one.
    """

    file_sha256: str
    file_name: str
    bytes: int
    claimed_list: str = ""
    claimed_date: str = ""
    claimed_date_text: str = ""
    claimed_slot: str = ""
    captured_at: str = ""
    archive: str = ""
    archive_commit: str = ""
    archive_path: str = ""
    archived_at: str = ""
    url: str = ""
    mirror_path: str = ""

    @property
    def short(self) -> str:
        return f"{self.file_name} (sha256 {self.file_sha256[:12]})"


FIELDS = [f.name for f in fields(Entry)]

# The one text form of a UTC time, in the registries and in the published CSVs; DuckDB casts it
# to a timestamp as it is, so the SQL side needs no copy of it.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_text(value: dt.datetime | str | None) -> str:
    """An ISO timestamp normalised to UTC with a Z suffix, or empty."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime(TIMESTAMP_FORMAT)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def make_entry(file_sha256: str, file_name: str, size: int, **provenance: str) -> Entry:
    """An entry with the claims of its name filled in from the name (and archive path)."""
    claims = parse_name(file_name, provenance.get("archive_path", ""))
    captured = provenance.pop("captured_at", "") or claims.captured_at
    return Entry(
        file_sha256=file_sha256,
        file_name=file_name,
        bytes=size,
        claimed_list=claims.claimed_list or "",
        claimed_date=claims.claimed_date.isoformat() if claims.claimed_date else "",
        claimed_date_text=claims.claimed_date_text or "",
        claimed_slot=claims.claimed_slot or "",
        captured_at=utc_text(captured),
        **{k: v for k, v in provenance.items() if k != "archived_at"},
        archived_at=utc_text(provenance.get("archived_at")),
    )


class Registry:
    """The entries of ``sources/snapshots.csv``, keyed by sha256."""

    def __init__(self, path: Path, entries: dict[str, Entry] | None = None):
        self.path = path
        self.entries: dict[str, Entry] = entries or {}

    @classmethod
    def load(cls, path: Path) -> Registry:
        if not path.exists():
            return cls(path)
        entries: dict[str, Entry] = {}
        for subject, row in read_rows(path, FIELDS, "registry"):
            try:
                entry = Entry(**{k: row[k] for k in FIELDS if k != "bytes"}, bytes=int(row["bytes"]))
            except (TypeError, ValueError) as exc:
                raise InputError(subject, f"malformed registry row ({exc})") from exc
            if len(entry.file_sha256) != 64 or any(c not in "0123456789abcdef" for c in entry.file_sha256):
                raise InputError(subject, f"not a sha256: {entry.file_sha256!r}")
            if entry.file_sha256 in entries:
                raise InputError(subject, f"sha256 {entry.file_sha256} is registered twice")
            entries[entry.file_sha256] = entry
        return cls(path, entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.sorted())

    def sorted(self) -> list[Entry]:
        return sorted(self.entries.values(), key=lambda e: (e.archive, e.archive_path, e.file_name, e.file_sha256))

    def add(self, entry: Entry) -> bool:
        """Register ``entry``; False when the same bytes are already registered."""
        if entry.file_sha256 in self.entries:
            return False
        self.entries[entry.file_sha256] = entry
        return True

    def to_csv(self) -> str:
        return rows_text(self.sorted(), FIELDS)

    def save(self) -> None:
        write_atomically(self.path, self.to_csv().encode())


def entries_from_manifest(manifest: Path) -> list[Entry]:
    """Registry entries for every row of a raw-snapshots ``MANIFEST.csv``."""
    entries = []
    for subject, row in manifest_rows(manifest):
        try:
            entries.append(
                make_entry(
                    row["sha256"].lower(),
                    Path(row["path"]).name,
                    int(row["bytes"]),
                    archive=row["archive"],
                    archive_commit=row["archive_commit"],
                    archive_path=row["archive_path"],
                    archived_at=row["archived_at"],
                    url=row["url"],
                    mirror_path=row["path"],
                )
            )
        except (KeyError, ValueError) as exc:
            raise InputError(subject, f"malformed manifest row ({exc})") from exc
    return entries


def seed_registry(path: Path, manifest: Path) -> int:
    """Register every row of a raw-snapshots ``MANIFEST.csv`` at ``path``; returns how many were new."""
    registry = Registry.load(path)
    added = sum(registry.add(entry) for entry in entries_from_manifest(manifest))
    registry.save()
    return added
