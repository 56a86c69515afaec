"""The sources registry: the committed list of every raw snapshot the package is built from.

One CSV row per byte-distinct file, keyed by sha256, with its provenance and the claims its
name makes. The file is written sorted and with fixed formatting so that it diffs cleanly.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ice287g.errors import InputError
from ice287g.names import parse_name


@dataclass(frozen=True)
class Entry:
    # SHA-256 of the file's bytes; the snapshot's identity.
    file_sha256: str
    # The file's name as the publisher or archive gave it.
    file_name: str
    # Size of the file in bytes.
    bytes: int
    # The list the name claims (participating or pending); checked against contents.
    claimed_list: str = ""
    # The publication date ICE's name claims (ISO), empty when the name has none or it is not a date.
    claimed_date: str = ""
    # The digits of the name's date exactly as written, kept for typos.
    claimed_date_text: str = ""
    # The time of day the name claims (am, mid, pm).
    claimed_slot: str = ""
    # When the file was captured (UTC), where known: Wayback timestamp, archive folder or acquire time.
    captured_at: str = ""
    # The public archive (or 'maintainer' / 'ice.gov') the file came from.
    archive: str = ""
    # The archive commit that holds the file.
    archive_commit: str = ""
    # The file's path inside that archive.
    archive_path: str = ""
    # When the archive first committed the file (UTC): an upper bound on capture.
    archived_at: str = ""
    # Pinned download URL; what it serves must match file_sha256.
    url: str = ""
    # The file's path relative to the mirror folder, where it has one.
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
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = set(FIELDS) - set(reader.fieldnames or [])
            if missing:
                raise InputError(str(path), f"registry lacks columns {sorted(missing)}")
            for line, row in enumerate(reader, start=2):
                try:
                    entry = Entry(**{k: row[k] for k in FIELDS if k != "bytes"}, bytes=int(row["bytes"]))
                except (TypeError, ValueError) as exc:
                    raise InputError(f"{path}:{line}", f"malformed registry row ({exc})") from exc
                if len(entry.file_sha256) != 64 or any(c not in "0123456789abcdef" for c in entry.file_sha256):
                    raise InputError(f"{path}:{line}", f"not a sha256: {entry.file_sha256!r}")
                if entry.file_sha256 in entries:
                    raise InputError(f"{path}:{line}", f"sha256 {entry.file_sha256} is registered twice")
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
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        for entry in self.sorted():
            writer.writerow(asdict(entry))
        return out.getvalue()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".csv.tmp")
        tmp.write_text(self.to_csv(), encoding="utf-8")
        tmp.replace(self.path)


def entries_from_manifest(manifest: Path) -> list[Entry]:
    """Registry entries for every row of a raw-snapshots ``MANIFEST.csv``."""
    if not manifest.exists():
        raise InputError(str(manifest), "manifest not found")
    with open(manifest, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    entries = []
    for line, row in enumerate(rows, start=2):
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
            raise InputError(f"{manifest}:{line}", f"malformed manifest row ({exc})") from exc
    return entries
