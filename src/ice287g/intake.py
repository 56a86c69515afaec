"""Register new snapshot files: by hand (``add``) or from ICE's live 287(g) page (``acquire``).

A file is registered only if it is a real workbook in a known layout; its bytes go into the
store and a row into the registry. Re-registering the same bytes is a no-op that says so.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ice287g import ICE_PAGE
from ice287g.errors import InputError
from ice287g.layouts import detect_workbook, load_layouts
from ice287g.registry import Entry, Registry, make_entry, sha256_of, utc_text
from ice287g.settings import Settings
from ice287g.store import Store, suffix_for
from ice287g.workbook import read_workbook

USER_AGENT = "ice287g (open data package of the 287(g) program)"


@dataclass
class Outcome:
    name: str
    status: str  # added, already registered, refused
    detail: str
    entry: Entry | None = None


def check_workbook(path: Path, display: str, settings: Settings) -> str:
    """The list a workbook holds; raises InputError if it is no workbook or an unknown layout."""
    layouts = load_layouts(settings.root / "sources" / "layouts.csv")
    detected = detect_workbook(read_workbook(path, display), layouts, display)
    return next(d.layout.list for d in detected if d.layout.list in ("participating", "pending"))


def _now() -> str:
    return utc_text(dt.datetime.now(dt.UTC))


def add_files(settings: Settings, files: list[Path], **provenance: str) -> list[Outcome]:
    """Register ``files``; all are checked before any is registered."""
    registry = Registry.load(settings.registry)
    store = Store(settings.store)
    checked = []
    for path in files:
        if not path.is_file():
            raise InputError(str(path), "no such file")
        check_workbook(path, str(path), settings)
        checked.append((path, sha256_of(path)))

    outcomes = []
    for path, sha in checked:
        if sha in registry.entries:
            known = registry.entries[sha]
            outcomes.append(Outcome(path.name, "already registered", f"same bytes as {known.file_name}", known))
            continue
        store.put_file(path, sha, suffix_for(path.name))
        fields = {"archive": "maintainer", "archive_path": path.name, "archived_at": _now(), **provenance}
        entry = make_entry(sha, path.name, path.stat().st_size, **fields)
        registry.add(entry)
        outcomes.append(Outcome(path.name, "added", f"sha256 {sha[:12]}, {entry.claimed_list or '?'} list", entry))
    if any(o.status == "added" for o in outcomes):
        registry.save()
    return outcomes


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
    retry = Retry(total=3, backoff_factor=1.0, status_forcelist=(429, 500, 502, 503, 504))
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.headers["User-Agent"] = USER_AGENT
    return session


def acquire(settings: Settings, page_url: str = ICE_PAGE) -> list[Outcome]:
    """Download and register the workbooks ICE's page links to that are not registered yet."""
    session = _session()
    try:
        page = session.get(page_url, timeout=60)
    except requests.RequestException as exc:
        raise InputError(page_url, f"cannot fetch the 287(g) page ({exc})") from exc
    if page.status_code != 200:
        raise InputError(page_url, f"the 287(g) page answered HTTP {page.status_code}")
    links = workbook_links(page.text, page_url)
    if not links:
        raise InputError(page_url, "the page links to no participating or pending .xlsx workbook")

    outcomes = []
    with tempfile.TemporaryDirectory() as tmp:
        for url in links:
            name = unquote(Path(urlparse(url).path).name)
            target = Path(tmp) / name
            try:
                response = session.get(url, timeout=120)
                if response.status_code != 200:
                    raise InputError(url, f"answered HTTP {response.status_code}")
                target.write_bytes(response.content)
                check_workbook(target, url, settings)
            except requests.RequestException as exc:
                outcomes.append(Outcome(name, "refused", f"download failed ({exc})"))
                continue
            except InputError as exc:
                outcomes.append(Outcome(name, "refused", exc.problem))
                continue
            now = _now()
            outcomes.extend(
                add_files(
                    settings,
                    [target],
                    archive="ice.gov",
                    archive_path=urlparse(url).path,
                    url=url,
                    captured_at=now,
                    archived_at=now,
                )
            )
    return outcomes
