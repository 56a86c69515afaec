"""Register new snapshot files by hand (``add``) or from a mirror's manifest.

A file is registered only if it is a real workbook in a known layout and a plausible next list
(``plausibility``). Its bytes go into the store and a row into the registry; re-registering the
same bytes is a no-op that says so. A maintainer may insist on an implausible list (``force``): it
is then registered, and ``sources/forced.csv`` records that it was insisted on and why."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

from ice287g.errors import InputError
from ice287g.pipeline.intake.plausibility import (
    ListFacts,
    date_fixes,
    list_candidates,
    plausibility_problems,
    read_list,
)
from ice287g.pipeline.lock import checkout_lock
from ice287g.raw.layouts import Layout, load_layouts
from ice287g.settings import Settings
from ice287g.sources.registry import (
    MANIFEST,
    Entry,
    Registry,
    entries_from_manifest,
    entry_problems,
    make_entry,
    mirror_entries,
)
from ice287g.sources.store import Store, suffix_for
from ice287g.util.csvfile import read_rows, rows_text, write_atomically
from ice287g.util.hashing import sha256_of
from ice287g.util.timestamps import utc_text

FORCED_FIELDS = ["file_sha256", "file_name", "reason", "forced_at"]


@dataclass
class Outcome:
    name: str
    status: str  # added, already registered, refused
    detail: str
    entry: Entry | None = None


@dataclass(frozen=True)
class Forced:
    """A row of ``sources/forced.csv``: a file registered although it failed a plausibility rule."""

    file_sha256: str
    file_name: str
    reason: str
    forced_at: str


def utc_now() -> str:
    return utc_text(dt.datetime.now(dt.UTC))


def forced_log(settings: Settings) -> Path:
    """``sources/forced.csv``, beside the registry: every file registered although implausible."""
    return settings.registry.parent / "forced.csv"


def _log_forced(path: Path, rows: list[Forced]) -> None:
    kept = []
    if path.exists():
        kept = [Forced(**{k: row[k] for k in FORCED_FIELDS}) for _, row in read_rows(path, FORCED_FIELDS, "forced log")]
    write_atomically(path, rows_text(kept + rows, FORCED_FIELDS).encode())


class _Registered:
    """Reads the lists of registered files that are at hand (the store, else the mirror folder),
    once each; a file not at hand, or whose bytes do not match, is skipped, never fetched."""

    def __init__(self, settings: Settings, layouts: dict[tuple[str, ...], Layout]):
        self.store = Store(settings.store)
        self.mirror = settings.mirror
        self.layouts = layouts
        self.known: dict[str, ListFacts | None] = {}

    def facts(self, entry: Entry) -> ListFacts | None:
        if entry.file_sha256 not in self.known:
            self.known[entry.file_sha256] = self._read(entry)
        return self.known[entry.file_sha256]

    def _read(self, entry: Entry) -> ListFacts | None:
        places = [self.store.path_for(entry.file_sha256, suffix_for(entry.file_name))]
        if self.mirror is not None and entry.mirror_path:
            places.append(self.mirror / entry.mirror_path)
        for path in places:
            if path.is_file() and sha256_of(path) == entry.file_sha256:
                try:
                    return read_list(path, entry.file_name, self.layouts)
                except InputError:
                    return None
        return None


@dataclass(frozen=True)
class Arrival:
    """A file to register: where it is, how messages name it, and its registry entry (its name,
    size, sha256 and what is known of where it comes from)."""

    path: Path
    display: str
    entry: Entry


@dataclass
class _Incoming:
    """An arrival as read: the list it holds, and why it is implausible (empty when it is not)."""

    arrival: Arrival
    facts: ListFacts
    problems: list[str]

    @property
    def entry(self) -> Entry:
        return self.arrival.entry


def register_arrival(settings: Settings, arrivals: list[Arrival], force: bool) -> list[Outcome]:
    """Register ``arrivals``; all are checked before any is."""
    for a in arrivals:
        # what the registry would refuse to load, refused before it is written
        if problems := entry_problems(a.entry):
            raise InputError(a.display, "; ".join(problems))
    registry = Registry.load(settings.registry)
    store = Store(settings.store)
    layouts = load_layouts(settings.root / "sources" / "layouts.csv")
    fixes = date_fixes(settings.root)
    incoming = [_Incoming(a, read_list(a.path, a.display, layouts), []) for a in arrivals]

    # Each new list is compared with the newest list of its kind before it: registered, or
    # another file of this call.
    registered = _Registered(settings, layouts)
    batch = {i.entry.file_sha256: i.facts for i in incoming}
    candidates = list_candidates([*registry.entries.values(), *(i.entry for i in incoming)], fixes)
    for new in incoming:
        if new.entry.file_sha256 in registry.entries:
            continue
        new.problems = plausibility_problems(
            new.entry,
            new.facts,
            candidates,
            lambda e: batch.get(e.file_sha256) or registered.facts(e),
            fixes,
            registered_on=dt.datetime.now(dt.UTC).date(),
        )
        if new.problems and not force:
            raise InputError(new.arrival.display, "; ".join(new.problems) + " (--force registers it anyway)")

    outcomes = []
    forced = []
    for new in incoming:
        sha = new.entry.file_sha256
        if sha in registry.entries:
            known = registry.entries[sha]
            outcomes.append(
                Outcome(new.entry.file_name, "already registered", f"same bytes as {known.file_name}", known)
            )
            continue
        store.put_file(new.arrival.path, sha, suffix_for(new.entry.file_name))
        registry.add(new.entry)
        detail = f"sha256 {sha[:12]}, {new.facts.kind} list of {new.facts.rows:,} rows"
        if not new.entry.mirror_path and not new.entry.url:
            detail += "; only in this store: copy it to the mirror (with its MANIFEST row) or give --url"
        if new.problems:
            reason = "; ".join(new.problems)
            forced.append(Forced(sha, new.entry.file_name, reason, utc_now()))
            detail += f"; forced past: {reason}"
        outcomes.append(Outcome(new.entry.file_name, "added", detail, new.entry))
    if any(o.status == "added" for o in outcomes):
        registry.save()
    if forced:
        _log_forced(forced_log(settings), forced)
    return outcomes


def _given(values: dict[str, str]) -> dict[str, str]:
    """The options that were given, times normalised to UTC text; InputError for a time that is none."""
    given = {k: v.strip() for k, v in values.items() if v and v.strip()}
    for name in ("captured_at", "archived_at"):
        if name in given:
            try:
                given[name] = utc_text(given[name])
            except ValueError:
                raise InputError(
                    f"--{name.replace('_', '-')}", f"{given[name]!r} is no ISO 8601 time (2026-05-07T13:30:15Z)"
                ) from None
    return given


def arrival(path: Path, mirror: Path | None, known: dict[str, Entry], given: dict[str, str]) -> Arrival:
    """``path`` as a file to register, with the provenance known of its bytes.

    A file whose bytes the mirror's MANIFEST.csv lists (``known``, by sha256) takes its name,
    archive, commit, path, archive time, URL and place in the mirror from there; what ``given``
    adds must not contradict it. Any other file takes its own name and what ``given`` says (the
    archive is "maintainer" unless given), and its place in the mirror when it sits there. No
    time is made up: a time nobody gave stays empty."""
    if not path.is_file():
        raise InputError(str(path), "no such file")
    sha = sha256_of(path)
    listed = known.get(sha)
    if listed is not None:
        clashes = [
            f"{name} {value!r} (the mirror's MANIFEST.csv says {getattr(listed, name)!r})"
            for name, value in given.items()
            if getattr(listed, name) and getattr(listed, name) != value
        ]
        if clashes:
            raise InputError(str(path), "these bytes are in the mirror, whose record differs: " + "; ".join(clashes))
        return Arrival(path, str(path), replace(listed, **{k: v for k, v in given.items() if not getattr(listed, k)}))
    fields = {"archive": "maintainer", "archive_path": path.name, **given, "mirror_path": _mirror_path(path, mirror)}
    return Arrival(path, str(path), make_entry(sha, path.name, path.stat().st_size, **fields))


def _mirror_path(path: Path, mirror: Path | None) -> str:
    """``path`` relative to the mirror folder when it lies inside it, else empty."""
    if mirror is None:
        return ""
    try:
        return path.resolve().relative_to(mirror.resolve()).as_posix()
    except ValueError:
        return ""


def add_files(
    settings: Settings,
    files: list[Path],
    *,
    force: bool = False,
    archive: str = "",
    url: str = "",
    captured_at: str = "",
    archived_at: str = "",
) -> list[Outcome]:
    """Register ``files``; all are checked before any is registered.

    A file must be a workbook in a known layout and a plausible list (``plausibility_problems``);
    with ``force`` an implausible one is registered all the same and logged in ``forced_log``. Its
    provenance is the mirror's record of its bytes, else what is given (see ``arrival``)."""
    given = _given({"archive": archive, "url": url, "captured_at": captured_at, "archived_at": archived_at})
    known = mirror_entries(settings.mirror)
    with checkout_lock(settings):
        return register_arrival(settings, [arrival(path, settings.mirror, known, given) for path in files], force)


def add_from_mirror(settings: Settings, manifest: Path | None = None, *, force: bool = False) -> list[Outcome]:
    """Register every file of the mirror's ``MANIFEST.csv`` (or ``manifest``'s) that is not
    registered yet, with the provenance its row gives; each is checked as ``add_files`` checks a
    file, and all before any is registered. Files registered already are left as they are."""
    manifest = manifest or (settings.mirror / MANIFEST if settings.mirror else None)
    if manifest is None:
        raise InputError("ICE287G_MIRROR", "no mirror folder, so no MANIFEST.csv to register from")
    with checkout_lock(settings):
        return _add_from_manifest(settings, manifest, force)


def _add_from_manifest(settings: Settings, manifest: Path, force: bool) -> list[Outcome]:
    registered = Registry.load(settings.registry).entries
    arrivals = []
    for entry in entries_from_manifest(manifest):
        if entry.file_sha256 in registered:
            continue
        path = manifest.parent / entry.mirror_path
        if not path.is_file():
            raise InputError(f"{manifest} ({entry.short})", f"lists {entry.mirror_path}, which is not there")
        if sha256_of(path) != entry.file_sha256:
            raise InputError(str(path), f"does not have the sha256 {entry.file_sha256} that {manifest} gives it")
        arrivals.append(Arrival(path, str(path), entry))
    return register_arrival(settings, arrivals, force) if arrivals else []
