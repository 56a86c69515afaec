"""The sources registry: the committed list of every raw snapshot the package is built from.

One CSV row per byte-distinct file, keyed by sha256, with its provenance and the claims its
name makes. The file is written sorted and with fixed formatting so that it diffs cleanly.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, fields
from pathlib import Path, PurePosixPath

from ice287g.errors import InputError
from ice287g.sources.names import parse_name
from ice287g.util.csvfile import manifest_rows, read_rows, rows_text, write_atomically
from ice287g.util.timestamps import TIMESTAMP_FORMAT, utc_text


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
# A mirror folder's list of its files, with their provenance (see ../shared/raw-snapshots/README.md).
MANIFEST = "MANIFEST.csv"

SHA256 = re.compile(r"[0-9a-f]{64}")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
# What a name can claim (ice287g.sources.names): a row with anything else was edited by hand, and the build
# would publish it as data.
CLAIMED_LISTS = ("participating", "pending", "")
CLAIMED_SLOTS = ("am", "mid", "pm", "")


def entry_problems(entry: Entry) -> list[str]:
    """What is wrong with one registry row, as readable phrases (none when it is sound)."""
    problems = []
    if not SHA256.fullmatch(entry.file_sha256):
        problems.append(f"not a sha256: {entry.file_sha256!r}")
    if entry.bytes < 0:
        problems.append(f"bytes is negative: {entry.bytes}")
    if entry.claimed_list not in CLAIMED_LISTS:
        problems.append(f"claimed_list {entry.claimed_list!r} is none of participating, pending or empty")
    if entry.claimed_slot not in CLAIMED_SLOTS:
        problems.append(f"claimed_slot {entry.claimed_slot!r} is none of am, mid, pm or empty")
    if entry.claimed_date and not _is_date(entry.claimed_date):
        problems.append(f"claimed_date {entry.claimed_date!r} is no date (YYYY-MM-DD)")
    for name in ("captured_at", "archived_at"):
        value = getattr(entry, name)
        if value and not _is_timestamp(value):
            problems.append(f"{name} {value!r} is no UTC time (YYYY-MM-DDTHH:MM:SSZ)")
        elif value and value > utc_text(dt.datetime.now(dt.UTC) + CLOCK_SKEW):
            problems.append(f"{name} {value} is in the future: no file was captured or archived then")
    if entry.mirror_path and not _inside(entry.mirror_path):
        problems.append(f"mirror_path {entry.mirror_path!r} leaves the mirror folder: it must be a path inside it")
    if any(_acts(ch) for ch in entry.file_name):
        problems.append(f"file_name {entry.file_name!r} holds control characters")
    return problems


# A time a little ahead of this machine's clock may be another machine's; hours ahead is none.
CLOCK_SKEW = dt.timedelta(minutes=10)


def _inside(relative: str) -> bool:
    """Whether a relative path stays in the folder it is relative to (no absolute path, no ``..``)."""
    path = PurePosixPath(relative)
    return not path.is_absolute() and ".." not in path.parts and "\\" not in relative and ":" not in relative


def _acts(ch: str) -> bool:
    """A character that acts on a terminal or reorders text rather than being shown."""
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def _is_date(text: str) -> bool:
    # the pattern first: fromisoformat also takes 20260230 and week dates
    try:
        return bool(DATE.fullmatch(text)) and dt.date.fromisoformat(text) is not None
    except ValueError:
        return False


def _is_timestamp(text: str) -> bool:
    try:
        return bool(TIMESTAMP.fullmatch(text)) and dt.datetime.strptime(text, TIMESTAMP_FORMAT) is not None
    except ValueError:
        return False


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
        """The registry at ``path`` (empty when there is none); an InputError naming every bad row:
        a malformed or repeated sha256, a size that is no number, an impossible date or time, a
        list or slot the names never claim."""
        if not path.exists():
            return cls(path)
        entries: dict[str, Entry] = {}
        problems: list[tuple[str, str]] = []
        for subject, row in read_rows(path, FIELDS, "registry"):
            try:
                entry = Entry(**{k: row[k] for k in FIELDS if k != "bytes"}, bytes=int(row["bytes"]))
            except (TypeError, ValueError) as exc:
                problems.append((subject, f"malformed registry row ({exc})"))
                continue
            found = entry_problems(entry)
            if entry.file_sha256 in entries:
                found.append(f"sha256 {entry.file_sha256} is registered twice (a file registered twice)")
            named = f" (sha256 {entry.file_sha256[:12]})" if SHA256.fullmatch(entry.file_sha256) else ""
            problems += [(subject, problem + named) for problem in found]
            entries.setdefault(entry.file_sha256, entry)
        if len(problems) == 1:
            raise InputError(*problems[0])
        if problems:
            shown = "\n  ".join(f"{subject}: {problem}" for subject, problem in problems[:20])
            more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
            raise InputError(str(path), f"{len(problems)} bad registry rows:\n  {shown}{more}")
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


def mirror_entries(mirror: Path | None) -> dict[str, Entry]:
    """The entries the mirror folder's ``MANIFEST.csv`` describes, by sha256; none when the
    mirror has no MANIFEST."""
    if mirror is None or not (mirror / MANIFEST).is_file():
        return {}
    return {entry.file_sha256: entry for entry in entries_from_manifest(mirror / MANIFEST)}
