"""Shared fixtures: small workbooks written by the tests, and an isolated project layout.

The pipeline is built as few times as the suite can afford: the small archive once per run
(``small_build_template``; ``small_built`` gives each test a copy to change), and the real archive
twice (``archive_clone``, a fresh clone built cold and released; ``archive_next``, the daily
release of one list more in a copy of it). Fixtures shared across tests are never changed by one.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import openpyxl
import pytest

from ice287g.settings import Settings

if TYPE_CHECKING:
    from ice287g.pipeline.build import BuildResult

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ICE287G_MIRROR", REPO.parent / "shared" / "raw-snapshots"))


def pin_hypothesis_constants() -> None:
    """Make derandomized property tests draw the same examples everywhere.

    Hypothesis mixes into its draws constants it collects from the "local" modules imported so
    far: every module outside site-packages and the standard library whose path has no folder
    named test or tests. Which those are depends on where the checkout lies (under a folder named
    test, none of this package's modules count) and on what earlier tests imported, so the same
    derandomized test drew other examples in another clone: ('INFINITY', 'date') failed there and
    never here. Hypothesis has no setting for it; an empty local pool everywhere is what a
    checkout under a folder named test already gets. Hypothesis is pinned in requirements.lock;
    if a new version moves this hook, the suite stops here rather than drift silently."""
    from hypothesis.internal.conjecture import providers
    from hypothesis.internal.constants_ast import Constants

    if not callable(getattr(providers, "_get_local_constants", None)):
        raise RuntimeError("hypothesis no longer has providers._get_local_constants: pin its local constants anew")
    providers._get_local_constants = Constants


def pytest_configure(config):
    pin_hypothesis_constants()


# the suite's wall time against the one cold build of the real archive it makes (archive_clone):
# the budget `make test` is held to is a multiple of that build, measured in the same run
TIMES: dict[str, float] = {}


def pytest_sessionstart(session):
    TIMES["session_start"] = time.monotonic()


# The suite runs in worker processes (pytest-xdist, `make test`). A fixture lives in each worker
# that uses it, so each module runs whole in one worker (its module fixtures are built once), and
# the modules that use the real archive's builds all in one (they are built once for the run).
# By a scheduler of our own: xdist's `loadgroup` marks do not group under pytest 9.2, whose node
# ids xdist 3.8 can no longer rename.
REAL_ARCHIVE_FIXTURES = {"archive_clone", "archive_build", "archive_next"}
REAL_ARCHIVE_MODULES = {"test_archive.py", "test_release_archive.py", "test_site.py"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        uses = REAL_ARCHIVE_FIXTURES & set(getattr(item, "fixturenames", ()))
        if uses and item.path.name not in REAL_ARCHIVE_MODULES:
            raise pytest.UsageError(
                f"{item.nodeid} uses {sorted(uses)}: add {item.path.name} to REAL_ARCHIVE_MODULES in "
                "tests/conftest.py, so that the real archive is built once"
            )


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class ByModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "real archive" if Path(module).name in REAL_ARCHIVE_MODULES else module

    return ByModule(config, log)


def pytest_sessionfinish(session):
    # a worker hands its measure of the cold build to the controller, which prints the summary
    if hasattr(session.config, "workeroutput") and "cold_build" in TIMES:
        session.config.workeroutput["cold_build"] = TIMES["cold_build"]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    if "cold_build" in getattr(node, "workeroutput", {}):
        TIMES["cold_build"] = node.workeroutput["cold_build"]


def pytest_terminal_summary(terminalreporter):
    if "cold_build" in TIMES:
        suite = time.monotonic() - TIMES["session_start"]
        terminalreporter.write_line(
            f"suite {suite:,.0f} s = {suite / TIMES['cold_build']:.1f} x the cold build of the real archive "
            f"in this run ({TIMES['cold_build']:,.0f} s: build and release in a fresh clone)"
        )


PARTICIPATING_HEADER = [
    "STATE",
    "LAW ENFORCEMENT AGENCY",
    "TYPE",
    "COUNTY",
    "SUPPORT TYPE",
    "SIGNED",
    "MOA",
    "ADDENDUM",
]
PENDING_HEADER = ["STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE"]

_PUBLISHED = [
    "state_published",
    "agency_name_published",
    "agency_type_published",
    "county_published",
    "support_type_published",
    "signed_published",
    "moa_published",
    "moa_link_published",
    "addendum_link_published",
]
# Rows of every publication rebuilt from the listings spans, against the rows the raw layer read
# for the publication's first capture: (rows only rebuilt, rows only read); both 0 when exact.
SPAN_MISMATCHES = f"""
with publication as (select publication_id, list, sequence from publications),
spans as (
    select l.*, f.sequence as first_sequence, coalesce(t.sequence, 1000000) as last_sequence
    from listings l
    join publication f on f.publication_id = l.first_publication_id
    left join publication t on t.publication_id = l.last_publication_id
),
rebuilt as (
    select p.publication_id, {", ".join("s." + c for c in _PUBLISHED)}
    from publication p join spans s on s.list = p.list and p.sequence between s.first_sequence and s.last_sequence
),
read as (
    select p.publication_id, {", ".join("r." + c for c in _PUBLISHED)}
    from int_snapshot_publications p
    join stg_raw__rows r on r.file_sha256 = p.file_sha256
    join stg_raw__sheets s on s.file_sha256 = r.file_sha256 and s.sheet_index = r.sheet_index and s.is_list_sheet
    where p.is_first_snapshot
)
select
    (select count(*) from (select * from rebuilt except all select * from read)),
    (select count(*) from (select * from read except all select * from rebuilt))
"""


def write_workbook(
    path: Path,
    rows: list[list[object]],
    *,
    sheet: str = "Sheet1",
    links: dict[tuple[int, int], str] | None = None,
    extra_sheets: dict[str, list[list[object]]] | None = None,
) -> Path:
    """An .xlsx at ``path`` with ``rows`` from A1; ``links`` maps (row, column), 1-based, to URLs."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                ws.cell(row=r, column=c, value=value)
    for (r, c), url in (links or {}).items():
        ws.cell(row=r, column=c).hyperlink = url
    for name, extra in (extra_sheets or {}).items():
        other = wb.create_sheet(name)
        for row in extra:
            other.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def participating_rows(n: int = 3, signed: dt.date = dt.date(2025, 3, 1)) -> list[list[object]]:
    agencies = ["Alpha County Sheriff's Office", "Beta Police Department", "Gamma County Sheriff's Office"]
    rows = [PARTICIPATING_HEADER]
    for i in range(n):
        rows.append(
            [
                "TEXAS",
                agencies[i % 3] + ("" if i < 3 else f" {i}"),
                "County",
                "Alpha County",
                "Task Force Model",
                signed,
                "link",
                None,
            ]
        )
    return rows


def register_in_mirror(
    settings: Settings, name: str, rows, links=None, archived_at="2026-03-28T00:00:00Z", **workbook
) -> Path:
    """Write a workbook into the mirror folder and register it as an archive would."""
    from ice287g.sources.registry import Registry, make_entry
    from ice287g.util.hashing import sha256_of

    path = write_workbook(settings.mirror / "files" / name, rows, links=links, **workbook)
    registry = Registry.load(settings.registry)
    registry.add(
        make_entry(
            sha256_of(path),
            name,
            path.stat().st_size,
            archive="test/archive",
            archived_at=archived_at,
            mirror_path=f"files/{name}",
        )
    )
    registry.save()
    return path


def register_small_archive(settings: Settings) -> None:
    """Register the small archive's two lists (see ``small_archive``) in ``settings``' mirror."""
    register_in_mirror(
        settings,
        "participatingAgencies03012026am.xlsx",
        participating_rows(3, dt.date(2026, 2, 27)),
        links={(2, 7): "https://web.archive.org/web/20260301000000/https://www.ice.gov/doclib/287gMOA/a.pdf"},
    )
    register_in_mirror(
        settings,
        "pendingAgencies03012026am.xlsx",
        [PENDING_HEADER, ["TEXAS", "Delta Police Department", "Municipality", "Delta County", ""]],
    )


@pytest.fixture
def small_archive(settings):
    """One participating list (three agreements, a Wayback-prefixed MOA link) and one pending list
    (one application, naming no model)."""
    register_small_archive(settings)
    return settings


@dataclass(frozen=True)
class Built:
    """A folder of the small archive, built and released: its settings, the build's result and the
    release paths that the first release wrote."""

    settings: Settings
    result: BuildResult
    changed: tuple[str, ...]


@pytest.fixture(scope="session")
def small_build_template(tmp_path_factory) -> tuple[Path, BuildResult, tuple[str, ...]]:
    """The small archive built and released once for the whole run (``small_built`` hands each test
    a copy); dbt's parse of it then serves every later build of the run (DBT_PARTIAL_PARSE_FILE_PATH:
    dbt reads the saved parse from there and checks it against the project, file by file)."""
    from ice287g.pipeline.build import build_release

    folder = tmp_path_factory.mktemp("small-build")
    settings = private_settings(folder)
    register_small_archive(settings)
    result, changed = build_release(settings, say=lambda _m: None, reuse=False)
    saved = tmp_path_factory.mktemp("dbt-parse") / "partial_parse.msgpack"
    shutil.copy2(settings.build_dir / "dbt" / "target" / "partial_parse.msgpack", saved)
    os.environ["DBT_PARTIAL_PARSE_FILE_PATH"] = str(saved)
    yield folder, result, tuple(changed)
    os.environ.pop("DBT_PARTIAL_PARSE_FILE_PATH", None)


@pytest.fixture
def small_built(small_build_template, tmp_path) -> Built:
    """A private copy of the small archive built and released (see ``small_archive``): a test may
    change it at will."""
    template, result, changed = small_build_template
    settings = copy_folder(template, tmp_path / "built")
    moved = replace(
        result,
        database=settings.database,
        package=settings.dist / result.version,
        descriptor=copy.deepcopy(result.descriptor),
        stage_seconds=dict(result.stage_seconds),
        warnings=list(result.warnings),
    )
    return Built(settings, moved, changed)


@pytest.fixture
def make_workbook(tmp_path) -> Callable[..., Path]:
    def _make(name: str, rows: list[list[object]], **kwargs) -> Path:
        return write_workbook(tmp_path / "incoming" / name, rows, **kwargs)

    return _make


def private_settings(folder: Path) -> Settings:
    """Settings that use the repository's models but a registry, store, mirror, build, dist and
    committed-release folder of their own under ``folder`` (the mirror folder is created, empty)."""
    mirror = folder / "mirror"
    mirror.mkdir(parents=True, exist_ok=True)
    return Settings(
        root=REPO,
        registry=folder / "sources" / "snapshots.csv",
        store=folder / "store",
        mirror=mirror,
        build_dir=folder / "build",
        offline=True,
        dist_dir=folder / "dist",
        release_dir=folder / "release",
    )


def copy_folder(folder: Path, target: Path) -> Settings:
    """A copy at ``target`` of a ``private_settings`` folder (mirror, registry, store, build, dist,
    release), and the settings of the copy."""
    shutil.copytree(folder, target, symlinks=True)
    return private_settings(target)


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings that use the repository's models but a private registry, store, mirror and build."""
    return private_settings(tmp_path)


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@contextlib.contextmanager
def serving(folder: Path):
    """A loopback HTTP server over ``folder`` while the block runs; yields its base URL."""

    def handler(*args, **kwargs):
        return _Handler(*args, directory=str(folder), **kwargs)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def http_folder(tmp_path):
    """A loopback HTTP server over a folder; yields (folder, base_url)."""
    folder = tmp_path / "www"
    folder.mkdir()
    with serving(folder) as base:
        yield folder, base


def reference_rows(mirror: Path, files: dict[str, str]) -> list:
    """Write each text into ``mirror`` and return a registry row (``Reference``) for each file."""
    from ice287g.sources.references import Reference, name_for
    from ice287g.util.hashing import sha256_of

    references = []
    for file_name, text in files.items():
        (mirror / file_name).write_text(text)
        path = mirror / file_name
        references.append(
            Reference(
                name=name_for(file_name),
                file_name=file_name,
                file_sha256=sha256_of(path),
                bytes=path.stat().st_size,
                url="",
                mirror_path=file_name,
                license="test",
                description=f"test file {file_name}",
            )
        )
    return references


def require_archive() -> None:
    """Skip a test of the real archive where ../shared is missing; on CI its absence is a failure."""
    if not (SHARED / "MANIFEST.csv").exists():
        if os.environ.get("CI"):
            pytest.fail(f"the real archive is missing at {SHARED}")
        pytest.skip(f"the real archive is not at {SHARED}")


# who commits in the tests' repositories (the daily release commits as RELEASE_BOT, by environment)
GIT_IDENTITY = ("-c", "user.name=Test Maintainer", "-c", "user.email=maintainer@example.org")


def git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(folder), *GIT_IDENTITY, *args], check=True, capture_output=True, text=True
    ).stdout


def clone_checkout(target: Path) -> Path:
    """A git clone of this checkout at ``target``, with the working tree's uncommitted changes
    committed on top (none on CI): the state a fresh clone of this change would have."""
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(target)], check=True)
    changed = git(REPO, "ls-files", "--modified", "--others", "--exclude-standard", "-z").split("\0")
    deleted = set(git(REPO, "ls-files", "--deleted", "-z").split("\0"))
    for name in filter(None, changed):
        if name in deleted:
            (target / name).unlink(missing_ok=True)
        else:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    if git(target, "status", "--porcelain"):
        git(target, "add", "--all")
        git(target, "commit", "--quiet", "-m", "work")
    return target


def clone_settings(folder: Path) -> Settings:
    """A clone's own registry, store, build and dist folders, reading the real archive's mirror."""
    return Settings(
        root=folder,
        registry=folder / "sources" / "snapshots.csv",
        store=folder / ".store",
        mirror=SHARED,
        build_dir=folder / "build",
        offline=True,
        dist_dir=folder / "dist",
        reference_mirror=SHARED.parent / "reference",
    )


@dataclass(frozen=True)
class ArchiveClone:
    """A fresh clone of this checkout, built cold from its registry and released: the suite's one
    cold build of the real archive (its tests read ``database``; none changes the clone)."""

    folder: Path
    settings: Settings
    result: BuildResult
    changed: tuple[str, ...]
    status_after: str


@pytest.fixture(scope="session")
def archive_clone(tmp_path_factory) -> ArchiveClone:
    require_archive()
    from ice287g.pipeline.build import build_release

    folder = clone_checkout(tmp_path_factory.mktemp("archive") / "checkout")
    settings = clone_settings(folder)
    clock = time.monotonic()
    result, changed = build_release(settings, say=lambda _m: None, reuse=False)
    TIMES["cold_build"] = time.monotonic() - clock
    return ArchiveClone(folder, settings, result, tuple(changed), git(folder, "status", "--porcelain"))


@pytest.fixture(scope="session")
def archive_build(archive_clone):
    con = duckdb.connect(str(archive_clone.settings.database), read_only=True)
    yield archive_clone.settings, archive_clone.result, con
    con.close()


def set_declared_size(path: Path, member: str, size: int) -> None:
    """Make the zip's local and central headers declare ``size`` inflated bytes for ``member``."""
    import struct
    import zipfile

    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        struct.pack_into("<I", data, zf.getinfo(member).header_offset + 22, size)
    entry = data.find(b"PK\x01\x02")
    while entry >= 0:
        length = struct.unpack_from("<H", data, entry + 28)[0]
        if data[entry + 46 : entry + 46 + length] == member.encode():
            struct.pack_into("<I", data, entry + 24, size)
        entry = data.find(b"PK\x01\x02", entry + 1)
    path.write_bytes(data)


def pin_recipes() -> list[tuple[str, str]]:
    """(language, code) of every fenced block of the README's pinning part."""
    from ice287g.publish.readme import PIN

    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text[text.index(PIN[0]) : text.index(PIN[1])]
    return re.findall(r"```(\w+)\n(.*?)```", block, flags=re.S)


def recipe(language: str, needle: str) -> str:
    (code,) = [c for lang, c in pin_recipes() if lang == language and needle in c]
    return code


# --- the daily path on the real archive ----------------------------------------------------------

# The day of the list the daily release test serves, and the agency it adds
NEXT_DAY = dt.date(2026, 5, 8)
NEXT_LIST = f"participatingAgencies{NEXT_DAY:%m%d%Y}am.xlsx"
NEXT_AGENCY = {"STATE": "TEXAS", "LAW ENFORCEMENT AGENCY": "Zeta County Sheriff's Office", "TYPE": "County"}
NEXT_AGENCY |= {"COUNTY": "Zeta County", "SUPPORT TYPE": "Task Force Model", "SIGNED": dt.datetime(2026, 5, 8)}
RELEASE_BOT = {"NAME": "Release Bot", "EMAIL": "bot@example.org"}


def next_list(root: Path, target: Path) -> dict[str, object]:
    """ICE's newest registered participating list as a next day's list would change it, saved at
    ``target``: one agreement more (``NEXT_AGENCY``), its last row gone, and one signing date moved
    two days (ICE correcting a date); returns the agency names of the rows that changed:
    {"removed": name, "redated": name}."""
    from ice287g.pipeline.bench import held_back
    from ice287g.sources.registry import Registry

    # the newest in the order `add` sees lists, as make bench holds it back (a name's date can be
    # a typo: 11114025)
    newest = held_back(Registry.load(root / "sources" / "snapshots.csv"), root)
    book = openpyxl.load_workbook(SHARED / newest.mirror_path)
    sheet = book.worksheets[0]
    header = [str(cell.value).strip().upper() if cell.value else None for cell in sheet[1]]
    signed, agency = header.index("SIGNED"), header.index("LAW ENFORCEMENT AGENCY")
    last = max(r[0].row for r in sheet.iter_rows(min_row=2) if r[agency].value)
    removed = sheet.cell(row=last, column=agency + 1).value
    sheet.delete_rows(last)
    row = next(r for r in sheet.iter_rows(min_row=2) if isinstance(r[signed].value, dt.datetime))
    redated = row[agency].value
    row[signed].value = row[signed].value + dt.timedelta(days=2)
    sheet.append([NEXT_AGENCY.get(h, "link pending" if h else None) for h in header])
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    return {"removed": removed, "redated": redated}


@dataclass(frozen=True)
class DailyRelease:
    """``ice287g release --page-url`` run twice, as the daily job would, in a copy of the archive
    clone, against a page shaped like ICE's that serves ``next_list``'s list and an empty pending
    list: the suite's second (and last) build of the real archive, one list more than the first."""

    folder: Path
    settings: Settings
    changes: dict
    first: subprocess.CompletedProcess
    first_head: str
    first_status: str
    again: subprocess.CompletedProcess
    again_head: str
    again_status: str


@pytest.fixture(scope="session")
def archive_next(archive_clone, tmp_path_factory) -> DailyRelease:
    folder = tmp_path_factory.mktemp("daily") / "checkout"
    shutil.copytree(archive_clone.folder, folder, symlinks=True)
    settings = clone_settings(folder)
    www = tmp_path_factory.mktemp("www")
    changes = next_list(folder, www / "doclib" / NEXT_LIST)
    write_workbook(www / "doclib" / f"pendingAgencies{NEXT_DAY:%m%d%Y}am.xlsx", [PENDING_HEADER])
    (www / "287g.html").write_text(
        "<html><body><h2>Participating Agencies</h2>"
        f'<a href="/doclib/{NEXT_LIST}">Excel</a>'
        "<h2>Pending Agencies</h2>"
        f'<a href="doclib/pendingAgencies{NEXT_DAY:%m%d%Y}am.xlsx">Excel</a></body></html>'
    )
    env = {
        **os.environ,
        "ICE287G_ROOT": str(folder),
        "ICE287G_STORE": str(settings.store),
        "ICE287G_MIRROR": str(SHARED),
        "ICE287G_REFERENCE_MIRROR": str(SHARED.parent / "reference"),
        "ICE287G_BUILD_DIR": str(settings.build_dir),
        "ICE287G_DIST_DIR": str(settings.dist),
        **{f"GIT_{who}_{what}": value for who in ("AUTHOR", "COMMITTER") for what, value in RELEASE_BOT.items()},
    }
    with serving(www) as base:
        cli = [str(Path(sys.executable).with_name("ice287g")), "release", "--page-url", f"{base}/287g.html"]

        def run() -> tuple[subprocess.CompletedProcess, str, str]:
            done = subprocess.run(cli, cwd=folder, env=env, capture_output=True, text=True, check=False)
            return done, git(folder, "rev-parse", "HEAD").strip(), git(folder, "status", "--porcelain")

        first, first_head, first_status = run()
        again, again_head, again_status = run()
    return DailyRelease(folder, settings, changes, first, first_head, first_status, again, again_head, again_status)
