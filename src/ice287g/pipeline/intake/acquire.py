"""Fetch the lists ICE's live 287(g) page links (``acquire``), within one deadline and a bound on
each download, and register each new one as ``add`` does."""

from __future__ import annotations

import shutil
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

from ice287g import ICE_PAGE
from ice287g.errors import InputError
from ice287g.pipeline.intake.add import Arrival, Outcome, register_arrival, utc_now
from ice287g.pipeline.intake.plausibility import date_fixes, date_in_name
from ice287g.pipeline.lock import checkout_lock
from ice287g.settings import Settings
from ice287g.sources.download import DOWNLOAD_DEADLINE_SECONDS, MAX_DOWNLOAD_BYTES, download, safe_file_name, session
from ice287g.sources.registry import (
    make_entry,
)
from ice287g.util.hashing import sha256_of


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
        now = utc_now()
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
    """``register_arrival``'s outcomes; when it refuses one file, that file is refused and none of the
    others registered."""
    try:
        return register_arrival(settings, arrivals, force)
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
