"""Register new snapshot files: by hand (``add``) or from ICE's live 287(g) page (``acquire``).

A file is registered only if it is a real workbook in a known layout and a plausible next list:
it has a date, and its row count is in line with the list of its kind before it. Its bytes go
into the store and a row into the registry; re-registering the same bytes is a no-op that says
so. A maintainer may insist on an implausible list (``force``): it is then registered, and
``sources/forced.csv`` records that it was insisted on and why.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

from ice287g import ICE_PAGE
from ice287g.errors import InputError
from ice287g.pipeline.lock import checkout_lock
from ice287g.raw.layouts import LIST_KINDS, Layout, detect_workbook, load_layouts
from ice287g.raw.workbook import read_workbook
from ice287g.settings import Settings
from ice287g.sources.download import DOWNLOAD_DEADLINE_SECONDS, MAX_DOWNLOAD_BYTES, download, safe_file_name, session
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

# How far a list's data rows may stray from the list of its kind before it, from the archive's
# own history (1,124 files, 2021 to March 2026). The participating list has never shrunk by more
# than 1.4% from one publication to the next, and grew at most by 58% (151 to 239 rows, February
# 2025): a list below 90% or above three times its predecessor is a broken export or another file.
PARTICIPATING_MIN_RATIO = 0.9
PARTICIPATING_MAX_RATIO = 3.0
# ICE's pending list drains to a handful of rows, and to none six times in November 2025, so it
# has no lower bound; it has never held more than 101 applications.
PENDING_MAX_ROWS = 1_000

_SLOT_RANK = {"am": 1, "mid": 2, "pm": 3}
FORCED_FIELDS = ["file_sha256", "file_name", "reason", "forced_at"]


@dataclass
class Outcome:
    name: str
    status: str  # added, already registered, refused
    detail: str
    entry: Entry | None = None


@dataclass(frozen=True)
class ListFacts:
    """A list as the plausibility rules see it: whose it is, which list, how many data rows."""

    name: str
    kind: str
    rows: int


@dataclass(frozen=True)
class Forced:
    """A row of ``sources/forced.csv``: a file registered although it failed a plausibility rule."""

    file_sha256: str
    file_name: str
    reason: str
    forced_at: str


def read_list(path: Path, display: str, layouts: dict[tuple[str, ...], Layout]) -> ListFacts:
    """The list a workbook holds and its data rows; InputError if it is no workbook or an unknown layout."""
    detected = detect_workbook(read_workbook(path, display), layouts, display)
    found = next(d for d in detected if d.layout.list in LIST_KINDS)
    return ListFacts(display, found.layout.list, len(found.data_rows))


def date_fixes(root: Path) -> dict[tuple[str, str], dt.date]:
    """The reviewed corrections of dates that file names state wrongly (``seeds/fix_snapshot_dates.csv``),
    by (file name, the name's digits): the same table the build dates publications with."""
    path = root / "seeds" / "fix_snapshot_dates.csv"
    if not path.exists():
        return {}
    with open(path, newline="", encoding="utf-8") as fh:
        return {
            (row["file_name"], row["claimed_date_text"]): dt.date.fromisoformat(row["corrected_date"])
            for row in csv.DictReader(fh)
        }


def _day(timestamp: str) -> dt.date | None:
    return dt.date.fromisoformat(timestamp[:10]) if timestamp else None


def date_in_name(entry: Entry, fixes: dict[tuple[str, str], dt.date]) -> dt.date | None:
    """The date the file's name gives, as a reviewed fix corrects it; None when it gives none."""
    fixed = fixes.get((entry.file_name, entry.claimed_date_text))
    if fixed is None and entry.claimed_date:
        return dt.date.fromisoformat(entry.claimed_date)
    return fixed


def publication_order(
    entry: Entry, fixes: dict[tuple[str, str], dt.date], registered_on: dt.date | None = None
) -> tuple | None:
    """Where a list sits among the others, or None when nothing dates it.

    Its date is its name's (as corrected by ``fixes``) unless that is later than the day the file
    was archived, or, with no archive time, ``registered_on`` (a typo: no list is published after
    it was saved), else the day it was captured; the slot of the day, the capture and archive
    times and the name order lists of one day.
    """
    name_date = date_in_name(entry, fixes)
    archived = _day(entry.archived_at) or registered_on
    if name_date is not None and archived is not None and name_date > archived:
        name_date = None
    date = name_date or _day(entry.captured_at)
    if date is None:
        return None
    return (date, _SLOT_RANK.get(entry.claimed_slot, 4), entry.captured_at, entry.archived_at, entry.file_name)


def previous_list(
    order: tuple,
    kind: str,
    candidates: Iterable[tuple[tuple, Entry]],
    facts_of: Callable[[Entry], ListFacts | None],
) -> ListFacts | None:
    """The newest list of ``kind`` before ``order`` among ``candidates`` (order, entry) whose
    contents can be read: newest first, skipping files not at hand and files that hold the other list."""
    for _, entry in sorted((c for c in candidates if c[0] < order), key=lambda c: c[0], reverse=True):
        facts = facts_of(entry)
        if facts is not None and facts.kind == kind:
            return facts
    return None


def list_candidates(entries: Iterable[Entry], fixes: dict[tuple[str, str], dt.date]) -> list[tuple[tuple, Entry]]:
    """(order, entry) of every dated entry whose name does not claim the pending list: where the
    list before a participating list is looked for (contents are checked when it is read)."""
    return [
        (order, entry)
        for entry in entries
        if entry.claimed_list != "pending" and (order := publication_order(entry, fixes)) is not None
    ]


def plausibility_problems(
    entry: Entry,
    facts: ListFacts,
    candidates: list[tuple[tuple, Entry]],
    facts_of: Callable[[Entry], ListFacts | None],
    fixes: dict[tuple[str, str], dt.date],
    registered_on: dt.date | None = None,
) -> list[str]:
    """Why a list should not be registered without a maintainer insisting; empty when plausible.

    It must have a date no later than the day it is registered (``registered_on``, where it has
    no archive time), and a row count in line with the list of its kind before it: a
    participating list is compared with the newest of ``candidates`` before it that holds a
    participating list (``facts_of`` reads one, None when it is not at hand).
    """
    problems = []
    order = publication_order(entry, fixes, registered_on)
    if order is None:
        if entry.claimed_date:
            problems.append(
                f"the date in its name, {entry.claimed_date}, is later than the day it was registered and no "
                "capture time was given (correct a typo in seeds/fix_snapshot_dates.csv, or give --captured-at)"
            )
        elif entry.claimed_date_text:
            problems.append(
                f"the digits of its name, {entry.claimed_date_text}, are no date and no capture time was given "
                "(correct them in seeds/fix_snapshot_dates.csv, or give --captured-at)"
            )
        else:
            problems.append("it has no date: its name carries none and no capture time was given (--captured-at)")
    if facts.kind == "pending" and facts.rows > PENDING_MAX_ROWS:
        problems.append(
            f"it lists {facts.rows:,} pending applications, more than {PENDING_MAX_ROWS:,}: ICE's pending list "
            "has never held more than about a hundred"
        )
    if facts.kind == "participating" and order is not None:
        others = [c for c in candidates if c[1].file_sha256 != entry.file_sha256]
        previous = previous_list(order, "participating", others, facts_of)
        if previous is not None and facts.rows < PARTICIPATING_MIN_RATIO * previous.rows:
            problems.append(
                f"it lists {facts.rows:,} agreements, fewer than {PARTICIPATING_MIN_RATIO:.0%} of the "
                f"{previous.rows:,} on the participating list before it ({previous.name}); the list has never "
                "shrunk so much between two publications"
            )
        elif previous is not None and facts.rows > PARTICIPATING_MAX_RATIO * previous.rows:
            problems.append(
                f"it lists {facts.rows:,} agreements, more than {PARTICIPATING_MAX_RATIO:g} times the "
                f"{previous.rows:,} on the participating list before it ({previous.name})"
            )
    return problems


def _now() -> str:
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


def _register(settings: Settings, arrivals: list[Arrival], force: bool) -> list[Outcome]:
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
            forced.append(Forced(sha, new.entry.file_name, reason, _now()))
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
        return _register(settings, [arrival(path, settings.mirror, known, given) for path in files], force)


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
    return _register(settings, arrivals, force) if arrivals else []


class _LinkParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def workbook_links(html: str, page_url: str) -> list[str]:
    """Absolute URLs of the participating and pending workbooks linked from the page."""
    parser = _LinkParser()
    parser.feed(html)
    found: dict[str, None] = {}  # in the page's order, each once
    for href in parser.hrefs:
        url = urljoin(page_url, href)
        name = unquote(Path(urlparse(url).path).name).lower()
        if name.endswith(".xlsx") and ("participating" in name or "pending" in name):
            found.setdefault(url)
    return list(found)


UNDATED_LINK = (
    "its name carries no date: ICE names each list with its date (participatingAgencies<MMDDYYYY>am.xlsx), "
    "and a list's download time is no evidence of when it was published (--force registers it, dated by "
    "its download; a typo in a name is corrected in seeds/fix_snapshot_dates.csv)"
)


# ICE's page links its two lists; an archive's page a few more. A page that links more than this
# is no 287(g) page, and would hold acquire for a download deadline per link.
MAX_LINKS = 20
# Every download of one acquire together, page included: the page and ICE's two lists take seconds;
# five minutes leaves room for a slow day and stops a page whose links all stall.
ACQUIRE_DEADLINE_SECONDS = 300.0
ACQUIRE_FOLDER = ".acquire"


def acquire(
    settings: Settings,
    page_url: str = ICE_PAGE,
    *,
    force: bool = False,
    all_or_nothing: bool = False,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    deadline: float = DOWNLOAD_DEADLINE_SECONDS,
    total_deadline: float = ACQUIRE_DEADLINE_SECONDS,
) -> list[Outcome]:
    """Download and register the workbooks ICE's page links to that are not registered yet.

    Holds the checkout's lock. Every download goes to a private folder under the build folder,
    removed at the end, or by the next acquire if this one is killed; a workbook leaves it only
    into the store. Each is bounded by ``max_bytes`` and ``deadline`` (seconds, the whole
    download), all of them together by ``total_deadline``, and a page may link at most
    ``MAX_LINKS`` workbooks. Each is checked as ``add_files`` checks a file (``force`` as there).
    A list whose name carries no date is refused unless ``force``; two links of one name with other
    bytes are both refused: which is the list cannot be told.
    Each list is registered on its own, unless ``all_or_nothing`` (the daily release): then one
    refused link registers none of them, and the others are "not registered".
    """
    with checkout_lock(settings):
        for stale in settings.build_dir.glob(f"{ACQUIRE_FOLDER}*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by an acquire that was killed
        with tempfile.TemporaryDirectory(dir=settings.build_dir, prefix=ACQUIRE_FOLDER) as tmp:
            return _acquire(settings, page_url, Path(tmp), force, all_or_nothing, max_bytes, deadline, total_deadline)


def _acquire(
    settings: Settings,
    page_url: str,
    tmp: Path,
    force: bool,
    all_or_nothing: bool,
    max_bytes: int,
    deadline: float,
    total_deadline: float,
) -> list[Outcome]:
    client = session()
    fixes = date_fixes(settings.root)
    outcomes: list[Outcome] = []
    arrivals: list[Arrival] = []
    end = time.monotonic() + total_deadline

    def within(seconds: float) -> float:
        return min(seconds, end - time.monotonic())

    page = download(client, page_url, tmp, name="page.html", max_bytes=max_bytes, deadline=within(deadline))
    # only the links matter: a stray byte is not worth refusing the page for
    html = page.read_bytes().decode("utf-8", errors="replace")
    page.unlink()
    links = workbook_links(html, page_url)
    if not links:
        raise InputError(page_url, "the page links to no participating or pending .xlsx workbook")
    if len(links) > MAX_LINKS:
        raise InputError(page_url, f"the page links {len(links):,} workbooks, more than any 287(g) page ({MAX_LINKS})")

    for url in links:
        name = url  # what the outcome is called until the link has a safe file name
        folder = Path(tempfile.mkdtemp(dir=tmp))  # one each: two links may share a name
        try:
            name = safe_file_name(url)
            if within(deadline) <= 0:
                raise InputError(url, f"not fetched: the {total_deadline:g} s for all downloads had passed")
            target = download(client, url, folder, max_bytes=max_bytes, deadline=within(deadline))
        except InputError as exc:
            outcomes.append(Outcome(name, "refused", exc.problem))
            continue
        # the moment of the download is this capture's time, and the store its archive
        now = _now()
        provenance = {"archive": "ice.gov", "archive_path": urlparse(url).path, "url": url}
        size = target.stat().st_size
        entry = make_entry(sha256_of(target), name, size, **provenance, captured_at=now, archived_at=now)
        if date_in_name(entry, fixes) is None and not force:
            # the download's time would date it, but it is no evidence of when ICE published it
            outcomes.append(Outcome(name, "refused", UNDATED_LINK))
            continue
        arrivals.append(Arrival(target, url, entry))

    arrivals, outcomes = _without_twins(arrivals, outcomes)
    if not all_or_nothing:
        for arrival in arrivals:
            outcomes.extend(_register_or_refuse(settings, [arrival], force))
    elif any(o.status == "refused" for o in outcomes):
        outcomes += [_held_back(a) for a in arrivals]
    else:
        outcomes += _register_or_refuse(settings, arrivals, force)
    return outcomes


def _held_back(arrival: Arrival) -> Outcome:
    return Outcome(arrival.entry.file_name, "not registered", "another link of the page was refused")


def _register_or_refuse(settings: Settings, arrivals: list[Arrival], force: bool) -> list[Outcome]:
    """``_register``'s outcomes; when it refuses one file, that file is refused and none of the
    others registered."""
    try:
        return _register(settings, arrivals, force)
    except InputError as exc:
        refused = next((a for a in arrivals if a.display == exc.subject), arrivals[0])
        return [Outcome(a.entry.file_name, "refused", exc.problem) if a is refused else _held_back(a) for a in arrivals]


def _without_twins(arrivals: list[Arrival], outcomes: list[Outcome]) -> tuple[list[Arrival], list[Outcome]]:
    """The arrivals whose file name no other link with other bytes shares; those that share one
    are refused (two different files cannot both be ICE's list of that name)."""
    shas: dict[str, set[str]] = {}
    for arrival in arrivals:
        shas.setdefault(arrival.entry.file_name, set()).add(arrival.entry.file_sha256)
    kept = []
    for arrival in arrivals:
        if len(shas[arrival.entry.file_name]) > 1:
            outcomes.append(
                Outcome(
                    arrival.entry.file_name,
                    "refused",
                    f"the page links {len(shas[arrival.entry.file_name])} different files of this name "
                    f"({arrival.display} is one): which is the list cannot be told",
                )
            )
        else:
            kept.append(arrival)
    return kept, outcomes
