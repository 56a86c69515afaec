"""Shared fixtures: small workbooks written by the tests, and an isolated project layout."""

from __future__ import annotations

import datetime as dt
import http.server
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path

import duckdb
import openpyxl
import pytest

from ice287g.settings import Settings

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
    from ice287g.registry import Registry, make_entry, sha256_of

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
        [PENDING_HEADER, ["TEXAS", "Delta Police Department", "Municipality", "Delta County", "Task Force Model"]],
    )


@pytest.fixture
def small_archive(settings):
    """One participating list (three agreements, a Wayback-prefixed MOA link) and one pending list."""
    register_small_archive(settings)
    return settings


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


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings that use the repository's models but a private registry, store, mirror and build."""
    return private_settings(tmp_path)


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def http_folder(tmp_path):
    """A loopback HTTP server over a folder; yields (folder, base_url)."""
    folder = tmp_path / "www"
    folder.mkdir()

    def handler(*args, **kwargs):
        return _Handler(*args, directory=str(folder), **kwargs)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def reference_rows(mirror: Path, files: dict[str, str]) -> list:
    """Write each text into ``mirror`` and return a registry row (``Reference``) for each file."""
    from ice287g.references import Reference, name_for
    from ice287g.registry import sha256_of

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


@pytest.fixture(scope="session")
def archive_build(tmp_path_factory):
    if not (SHARED / "MANIFEST.csv").exists():
        if os.environ.get("CI"):
            pytest.fail(f"the real archive is missing at {SHARED}")
        pytest.skip(f"the real archive is not at {SHARED}")
    work = tmp_path_factory.mktemp("archive")
    settings = Settings(
        root=REPO,
        registry=REPO / "sources" / "snapshots.csv",
        store=REPO / ".store",
        mirror=SHARED,
        build_dir=work / "build",
        offline=True,
        dist_dir=work / "dist",
    )
    from ice287g.build import build

    result = build(settings, say=lambda _m: None)
    con = duckdb.connect(str(settings.database), read_only=True)
    yield settings, result, con
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
    from ice287g.readme import PIN

    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text[text.index(PIN[0]) : text.index(PIN[1])]
    return re.findall(r"```(\w+)\n(.*?)```", block, flags=re.S)


def recipe(language: str, needle: str) -> str:
    (code,) = [c for lang, c in pin_recipes() if lang == language and needle in c]
    return code
