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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ice287g import ICE_PAGE
from ice287g.csvfile import read_rows, rows_text, write_atomically
from ice287g.download import DOWNLOAD_DEADLINE_SECONDS, MAX_DOWNLOAD_BYTES, download, safe_file_name
from ice287g.errors import InputError
from ice287g.layouts import LIST_KINDS, Layout, detect_workbook, load_layouts
from ice287g.registry import Entry, Registry, make_entry, sha256_of, utc_text
from ice287g.settings import Settings
from ice287g.store import Store, suffix_for
from ice287g.workbook import read_workbook

USER_AGENT = "ice287g (open data package of the 287(g) program)"

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


def publication_order(entry: Entry, fixes: dict[tuple[str, str], dt.date]) -> tuple | None:
    """Where a list sits among the others, or None when nothing dates it.

    Its date is its name's (as corrected by ``fixes``) unless that is later than the day the file
    was archived (a typo: no list is published after it was saved), else the day it was captured;
    the slot of the day, the capture and archive times and the name order lists of one day.
    """
    name_date = fixes.get((entry.file_name, entry.claimed_date_text))
    if name_date is None and entry.claimed_date:
        name_date = dt.date.fromisoformat(entry.claimed_date)
    archived = _day(entry.archived_at)
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
) -> list[str]:
    """Why a list should not be registered without a maintainer insisting; empty when plausible.

    It must have a date, and a row count in line with the list of its kind before it: a
    participating list is compared with the newest of ``candidates`` before it that holds a
    participating list (``facts_of`` reads one, None when it is not at hand).
    """
    problems = []
    order = publication_order(entry, fixes)
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


@dataclass
class _Incoming:
    path: Path
    display: str
    entry: Entry
    facts: ListFacts
    problems: list[str]


def _register(
    settings: Settings, files: list[tuple[Path, str, str]], force: bool, provenance: dict[str, str]
) -> list[Outcome]:
    """Register ``files`` (path, name in messages, file name); all are checked before any is."""
    registry = Registry.load(settings.registry)
    store = Store(settings.store)
    layouts = load_layouts(settings.root / "sources" / "layouts.csv")
    fixes = date_fixes(settings.root)
    now = _now()
    incoming: list[_Incoming] = []
    for path, display, name in files:
        if not path.is_file():
            raise InputError(display, "no such file")
        facts = read_list(path, display, layouts)
        fields = {"archive": "maintainer", "archive_path": name, "archived_at": now, **provenance}
        entry = make_entry(sha256_of(path), name, path.stat().st_size, **fields)
        incoming.append(_Incoming(path, display, entry, facts, []))

    # Each new list is compared with the newest list of its kind before it: registered, or
    # another file of this call.
    registered = _Registered(settings, layouts)
    batch = {i.entry.file_sha256: i.facts for i in incoming}
    candidates = list_candidates([*registry.entries.values(), *(i.entry for i in incoming)], fixes)
    for new in incoming:
        if new.entry.file_sha256 in registry.entries:
            continue
        new.problems = plausibility_problems(
            new.entry, new.facts, candidates, lambda e: batch.get(e.file_sha256) or registered.facts(e), fixes
        )
        if new.problems and not force:
            raise InputError(new.display, "; ".join(new.problems) + " (--force registers it anyway)")

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
        store.put_file(new.path, sha, suffix_for(new.entry.file_name))
        registry.add(new.entry)
        detail = f"sha256 {sha[:12]}, {new.facts.kind} list of {new.facts.rows:,} rows"
        if new.problems:
            reason = "; ".join(new.problems)
            forced.append(Forced(sha, new.entry.file_name, reason, now))
            detail += f"; forced past: {reason}"
        outcomes.append(Outcome(new.entry.file_name, "added", detail, new.entry))
    if any(o.status == "added" for o in outcomes):
        registry.save()
    if forced:
        _log_forced(forced_log(settings), forced)
    return outcomes


def add_files(settings: Settings, files: list[Path], *, force: bool = False, **provenance: str) -> list[Outcome]:
    """Register ``files``; all are checked before any is registered.

    A file must be a workbook in a known layout and a plausible list (``plausibility_problems``);
    with ``force`` an implausible one is registered all the same and logged in ``forced_log``.
    """
    return _register(settings, [(path, str(path), path.name) for path in files], force, provenance)


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
    found = []
    for href in parser.hrefs:
        url = urljoin(page_url, href)
        name = unquote(Path(urlparse(url).path).name).lower()
        if name.endswith(".xlsx") and ("participating" in name or "pending" in name) and url not in found:
            found.append(url)
    return found


def _session() -> requests.Session:
    session = requests.Session()
    # Retry refused connections and busy answers, not reads: a read that times out has had its
    # share of the download's deadline. A server's Retry-After is not obeyed: it could ask for days.
    retry = Retry(
        total=3,
        read=0,
        backoff_factor=1.0,
        status_forcelist=(429, 500, 502, 503, 504),
        respect_retry_after_header=False,
    )
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.headers["User-Agent"] = USER_AGENT
    return session


def acquire(
    settings: Settings,
    page_url: str = ICE_PAGE,
    *,
    force: bool = False,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    deadline: float = DOWNLOAD_DEADLINE_SECONDS,
) -> list[Outcome]:
    """Download and register the workbooks ICE's page links to that are not registered yet.

    Every download goes to a private temporary folder, removed at the end whatever happens; a
    workbook leaves it only into the store. Each is bounded by ``max_bytes`` and ``deadline``
    (seconds, the whole download), and checked as ``add_files`` checks a file (``force`` as there).
    """
    session = _session()
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="ice287g-acquire-") as tmp:
        page = download(session, page_url, Path(tmp), name="page.html", max_bytes=max_bytes, deadline=deadline)
        # only the links matter: a stray byte is not worth refusing the page for
        html = page.read_bytes().decode("utf-8", errors="replace")
        page.unlink()
        links = workbook_links(html, page_url)
        if not links:
            raise InputError(page_url, "the page links to no participating or pending .xlsx workbook")

        for url in links:
            name = url  # what the outcome is called until the link has a safe file name
            folder = Path(tempfile.mkdtemp(dir=tmp))  # one each: two links may share a name
            try:
                name = safe_file_name(url)
                target = download(session, url, folder, max_bytes=max_bytes, deadline=deadline)
                now = _now()
                provenance = {
                    "archive": "ice.gov",
                    "archive_path": urlparse(url).path,
                    "url": url,
                    "captured_at": now,
                    "archived_at": now,
                }
                outcomes.extend(_register(settings, [(target, url, name)], force, provenance))
            except InputError as exc:
                outcomes.append(Outcome(name, "refused", exc.problem))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
    return outcomes
