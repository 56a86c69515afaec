"""Hostile and broken inputs to ``add`` and ``acquire``, each written by the test itself.

A refusal names the file (or URL) and the problem, and changes nothing: the registry, the store
and the committed release keep every byte, and nothing of the input is left in temp or anywhere
else. Inputs the project accepts by design (its build's rules handle them) are accepted here.
"""

import contextlib
import datetime as dt
import hashlib
import http.server
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from urllib.parse import unquote
from xml.sax.saxutils import escape

import openpyxl
import pytest
from conftest import PARTICIPATING_HEADER, PENDING_HEADER, REPO, participating_rows, set_declared_size, write_workbook

from ice287g.errors import InputError
from ice287g.pipeline.intake.acquire import acquire
from ice287g.pipeline.intake.add import add_files
from ice287g.sources.download import MAX_DOWNLOAD_BYTES
from ice287g.sources.registry import Registry
from ice287g.sources.store import Store

NAME = "participatingAgencies03012026am.xlsx"
MEMORY_LIMIT = 1536 * 2**20  # the risky call runs in a process that may use no more (RLIMIT_AS)


# --- what a refusal must leave as it was -------------------------------------------------------


def tree(folder: Path) -> dict[str, str]:
    """Every path under ``folder`` with the sha256 of its bytes ("dir" for a folder); the
    checkout's lock file is there, but its bytes only name the last command that held it."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): "dir" if p.is_dir() else "lock" if p.name == ".lock" else _sha256(p)
        for p in sorted(folder.rglob("*"))
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def temp(tmp_path, monkeypatch) -> Path:
    """A private temp folder for this test: whatever intake leaves in temp is seen."""
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def world(settings, tmp_path, temp):
    """A registry with one list in the store, a committed release; ``unchanged()`` asserts that
    all of it, and everything else under the test's folder, is byte-for-byte as it was."""
    first = write_workbook(
        tmp_path / "seed" / "participatingAgencies02272026am.xlsx", participating_rows(3, dt.date(2026, 2, 20))
    )
    add_files(settings, [first])
    (settings.release / "data").mkdir(parents=True)
    (settings.release / "datapackage.json").write_text('{"name": "ice287g"}\n')
    (settings.release / "data" / "agreements.csv").write_text("agreement_id\nx\n")
    before = tree(tmp_path)

    class World:
        def unchanged(self):
            assert tree(tmp_path) == before
            assert list(temp.iterdir()) == []

    return World()


def discard(path: Path) -> None:
    """Remove a test's input and the folder made for it."""
    path.unlink()
    if not any(path.parent.iterdir()):
        path.parent.rmdir()


def refused(settings, path: Path, *problem: str) -> str:
    """Run ``add`` on ``path``; assert it is refused naming the file and each ``problem``."""
    with pytest.raises(InputError) as err:
        add_files(settings, [path])
    message = str(err.value)
    assert message.startswith(f"{path}: ")
    for words in problem:
        assert words in message
    return message


# --- workbooks written byte by byte ------------------------------------------------------------

SHEET = "xl/worksheets/sheet1.xml"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PACKAGE = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="xl/workbook.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
        '<Relationship Id="rId2" Target="sharedStrings.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
        "</Relationships>"
    ),
}
SHEET_START = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'.encode()
SHEET_END = b"</sheetData></worksheet>"


def write_package(
    path: Path,
    sheet_chunks: Iterable[bytes],
    shared_strings: str | bytes | None = None,
    level: int = 6,
    *,
    start: bytes = SHEET_START,
    end: bytes = SHEET_END,
    sheet: str = SHEET,
    parts: dict[str, str] | None = None,
) -> Path:
    """A minimal .xlsx whose one sheet is ``sheet_chunks`` (streamed in, never held whole) between
    ``start`` and ``end``, stored as ``sheet``; ``parts`` adds or replaces other members."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, text in (PACKAGE | (parts or {})).items():
            zf.writestr(name, text)
        with zf.open(sheet, "w") as fh:
            fh.write(start)
            for chunk in sheet_chunks:
                fh.write(chunk)
            fh.write(end)
        if shared_strings is not None:
            zf.writestr("xl/sharedStrings.xml", shared_strings)
    return path


def list_rows(rows: Iterable[list[str]]) -> Iterator[bytes]:
    """Sheet XML for ``rows`` of text cells from A1, a few hundred rows per chunk."""
    batch = []
    for r, row in enumerate(rows, start=1):
        cells = "".join(
            f'<c r="{chr(65 + c)}{r}" t="inlineStr"><is><t>{escape(text)}</t></is></c>' for c, text in enumerate(row)
        )
        batch.append(f'<row r="{r}">{cells}</row>')
        if len(batch) == 500:
            yield "".join(batch).encode()
            batch = []
    yield "".join(batch).encode()


def shared_string_sheet() -> list[bytes]:
    """A header cell and one row whose agency is shared string 0 (where the entity lands)."""
    header = "".join(
        f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(PENDING_HEADER)
    )
    return [f'<row r="1">{header}</row><row r="2"><c r="A2" t="s"><v>0</v></c></row>'.encode()]


# --- risky calls in a process of their own ------------------------------------------------------


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_limited(settings, temp: Path, *args: str) -> subprocess.CompletedProcess:
    """``python *args`` with this checkout's code and the test's registry and store, in a process
    limited to MEMORY_LIMIT of address space, given 120 s (a bound, not a benchmark)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICE287G_")}
    env.update(
        PYTHONPATH=str(REPO / "src"),
        ICE287G_ROOT=str(REPO),
        ICE287G_REGISTRY=str(settings.registry),
        ICE287G_STORE=str(settings.store),
        ICE287G_MIRROR=str(settings.mirror),
        ICE287G_BUILD_DIR=str(settings.build_dir),
        ICE287G_OFFLINE="1",
        TMPDIR=str(temp),
    )
    return subprocess.run(
        [sys.executable, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_memory,
        check=False,
    )


def add_limited(settings, temp: Path, path: Path) -> subprocess.CompletedProcess:
    return run_limited(settings, temp, "-m", "ice287g.cli", "add", str(path))


# --- files that are no workbook ----------------------------------------------------------------


def _truncated(path: Path) -> None:
    write_workbook(path, participating_rows())
    path.write_bytes(path.read_bytes()[:1500])


def _encrypted(path: Path) -> None:
    # An encrypted .xlsx is an OLE2 container holding the streams EncryptionInfo and EncryptedPackage.
    path.write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + bytes(1016)
        + "EncryptionInfo".encode("utf-16-le")
        + bytes(50)
        + "EncryptedPackage".encode("utf-16-le")
        + bytes(2000)
    )


NOT_WORKBOOKS: dict[str, tuple[Callable[[Path], object], str]] = {
    "zero bytes": (lambda p: p.write_bytes(b""), "the file is empty (0 bytes)"),
    "truncated zip": (_truncated, "corrupt or truncated workbook"),
    "HTML error page": (
        lambda p: p.write_text("\ufeff<!DOCTYPE html><html><body>503 Service Unavailable</body></html>"),
        "an HTML/XML page saved under a workbook name",
    ),
    "legacy .xls": (
        lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4088) + "Workbook".encode("utf-16-le")),
        "legacy .xls (Excel 97-2003) workbook, save it as .xlsx",
    ),
    "CSV renamed": (
        lambda p: p.write_text(",".join(PARTICIPATING_HEADER) + "\nTEXAS,Alpha County Sheriff's Office,County\n"),
        "plain text (a CSV?) saved under a workbook name",
    ),
    "encrypted workbook": (_encrypted, "the workbook is encrypted (password-protected)"),
}


@pytest.mark.parametrize("kind", NOT_WORKBOOKS)
def test_a_file_that_is_no_workbook_is_refused_and_named(settings, world, tmp_path, kind):
    write, problem = NOT_WORKBOOKS[kind]
    path = tmp_path / "incoming" / NAME
    path.parent.mkdir()
    write(path)
    before = path.read_bytes()
    refused(settings, path, problem)
    assert path.read_bytes() == before
    discard(path)
    world.unchanged()


# --- XML entity attacks ------------------------------------------------------------------------


def _billion_laughs() -> str:
    entities = '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    return (
        f'<?xml version="1.0"?><!DOCTYPE sst [{entities}]>'
        f'<sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'
    )


def _external_entity(secret: Path) -> str:
    return (
        f'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        f'<sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>&xxe;</t></si></sst>'
    )


@pytest.fixture
def secret(tmp_path) -> tuple[Path, str]:
    text = "SECRET-7f3a9c-DO-NOT-LEAK"
    path = tmp_path / "secret.txt"
    path.write_text(text)
    return path, text


@pytest.mark.parametrize("attack", ["external entity", "billion laughs"])
def test_an_entity_attack_in_shared_strings_is_refused_and_leaks_nothing(settings, secret, world, tmp_path, attack):
    secret_path, secret_text = secret
    strings = _external_entity(secret_path) if attack == "external entity" else _billion_laughs()
    path = write_package(tmp_path / "incoming" / "pendingAgencies03012026am.xlsx", shared_string_sheet(), strings)
    message = refused(settings, path, "member xl/sharedStrings.xml declares a DTD", "XML entity attack")
    assert secret_text not in message

    result = add_limited(settings, tmp_path / "temp", path)
    assert result.returncode == 1, result.stderr
    assert "error:" in result.stderr and "declares a DTD" in result.stderr
    assert secret_text not in result.stdout + result.stderr

    discard(path)
    world.unchanged()
    for file in (settings.registry, *settings.store.rglob("*.xlsx")):
        assert secret_text.encode() not in file.read_bytes()


@pytest.mark.parametrize("attack", ["external entity", "billion laughs"])
def test_calamine_alone_refuses_the_entity_too(tmp_path, secret, attack):
    """The second line of defence, as of python-calamine 0.4: it expands no entity of a DTD."""
    secret_path, secret_text = secret
    strings = _external_entity(secret_path) if attack == "external entity" else _billion_laughs()
    path = write_package(tmp_path / "attack.xlsx", shared_string_sheet(), strings)
    code = (
        "import sys; from python_calamine import CalamineWorkbook\n"
        "wb = CalamineWorkbook.from_path(sys.argv[1])\n"
        "print(wb.get_sheet_by_name('Sheet1').to_python())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_memory,
        check=False,
    )
    assert result.returncode == 1
    assert "unrecognized entity" in result.stderr
    assert secret_text not in result.stdout + result.stderr


# --- zip bombs ---------------------------------------------------------------------------------

BOMB_ROWS = 333_333_000  # "<row/>" six bytes each: two gigabytes of sheet, under zip64's limit


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """A workbook whose sheet inflates to 2 GB (about 9 MB on disk), written a mebibyte at a time."""
    chunk = b"<row/>" * (2**20 // 6)
    rows_per_chunk = 2**20 // 6

    def chunks():
        for _ in range(BOMB_ROWS // rows_per_chunk):
            yield chunk
        yield b"<row/>" * (BOMB_ROWS % rows_per_chunk)

    return write_package(tmp_path_factory.mktemp("bomb") / NAME, chunks(), level=1)


@pytest.mark.parametrize("header", ["honest", "lying"])
def test_a_zip_bomb_is_refused_within_bounded_memory(settings, world, tmp_path, bomb, header):
    with zipfile.ZipFile(bomb) as zf:
        assert zf.getinfo(SHEET).file_size > 1_900_000_000  # the bomb is what it claims to be
    path = tmp_path / "incoming" / NAME
    path.parent.mkdir()
    path.write_bytes(bomb.read_bytes())
    if header == "lying":
        set_declared_size(path, SHEET, 1000)
        problem = "member xl/worksheets/sheet1.xml inflates to more than the 1,000 bytes its header declares"
    else:
        problem = "the workbook declares more than 104,857,600 bytes once inflated"

    result = add_limited(settings, tmp_path / "temp", path)
    # exit status 1 is the command's own clean refusal; a process killed for memory would be negative
    assert result.returncode == 1, result.stderr[-2000:]
    assert f"error: {path}: {problem}" in result.stderr
    assert "zip bomb" in result.stderr

    discard(path)
    world.unchanged()


# --- workbooks in the wrong shape, and contents add accepts ------------------------------------


def test_a_participating_list_with_no_rows_is_refused_a_pending_one_is_accepted(settings, world, tmp_path):
    empty = write_workbook(tmp_path / "incoming" / NAME, [PARTICIPATING_HEADER])
    refused(settings, empty, "has a header but no agreements")
    discard(empty)
    world.unchanged()
    # ICE has published its pending list with a header and no applications
    pending = write_workbook(tmp_path / "incoming" / "pendingAgencies03012026am.xlsx", [PENDING_HEADER])
    (outcome,) = add_files(settings, [pending])
    assert outcome.status == "added" and "pending list of 0 rows" in outcome.detail


def _unknown_column(path: Path) -> None:
    rows = participating_rows()
    rows[0] = [*PARTICIPATING_HEADER, "NOTES"]
    rows[1] = [*rows[1][:8], "new column"]
    write_workbook(path, rows)


def _shuffled(path: Path) -> None:
    order = [1, 0, 2, 3, 4, 5, 6, 7]
    write_workbook(path, [[row[i] for i in order] for row in participating_rows()])


def _title_merged_above_header(path: Path) -> None:
    write_workbook(path, [["287(g) Participating Agencies"], *participating_rows()])
    wb = openpyxl.load_workbook(path)
    wb.active.merge_cells("A1:H1")
    wb.save(path)


def _header_cell_merged_over_data(path: Path) -> None:
    rows = participating_rows()
    rows[0] = [*PARTICIPATING_HEADER[:4], "SUPPORT TYPE", None, "SIGNED", "MOA"]
    write_workbook(path, rows)
    wb = openpyxl.load_workbook(path)
    wb.active.merge_cells("E1:F1")
    wb.save(path)


WRONG_SHAPES = {
    "a header with an unknown column": (_unknown_column, "has a layout never seen before"),
    "headers shuffled": (_shuffled, "has a layout never seen before"),
    "a title merged above the header": (_title_merged_above_header, "has data in columns [2, 3, 4, 5, 6, 7, 8] that"),
    "a header cell merged over data": (
        _header_cell_merged_over_data,
        "has data in columns [6] that its header does not",
    ),
}


@pytest.mark.parametrize("shape", WRONG_SHAPES)
def test_a_list_in_a_layout_never_seen_is_refused(settings, world, tmp_path, shape):
    write, problem = WRONG_SHAPES[shape]
    path = tmp_path / "incoming" / NAME
    path.parent.mkdir()
    write(path)
    refused(settings, path, problem)
    discard(path)
    world.unchanged()


def test_a_list_of_200000_rows_is_refused_before_it_is_read(settings, world, tmp_path):
    def rows():
        yield PARTICIPATING_HEADER
        for i in range(200_000):
            yield [
                "TEXAS",
                f"Agency {i:06d} Police Department",
                "Municipality",
                f"County {i % 254}",
                "Task Force Model",
            ]

    path = write_package(tmp_path / "incoming" / NAME, list_rows(rows()))
    assert path.stat().st_size < 20 * 2**20
    result = add_limited(settings, tmp_path / "temp", path)
    assert result.returncode == 1, result.stderr[-2000:]
    assert f"error: {path}: member xl/worksheets/sheet1.xml has more than 20,000 rows" in result.stderr
    discard(path)
    world.unchanged()


def test_a_signing_date_in_5025_and_a_state_never_seen_are_registered_for_the_build_to_flag(settings, world, tmp_path):
    """add checks the file, not the rows: the build keeps every row as published and flags it
    (signed_date_impossible, state_unmapped in listings.row_flags)."""
    rows = participating_rows(3)
    rows[1][5] = dt.date(5025, 3, 1)
    rows[2][0] = "ATLANTIS"
    path = write_workbook(tmp_path / "incoming" / NAME, rows)
    (outcome,) = add_files(settings, [path])
    assert outcome.status == "added"
    stored = Store(settings.store).path_for(outcome.entry.file_sha256)
    assert stored.read_bytes() == path.read_bytes()
    assert outcome.entry.file_sha256 in Registry.load(settings.registry).entries


# --- acquire against a hostile server ----------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        # routed by the decoded last segment: the client may resolve dot segments and decode dots
        route = self.server.routes.get(unquote(self.path).replace("\\", "/").rsplit("/", 1)[-1])
        if route is None:
            self.send_error(404)
            return
        # the client hanging up is what a refused download does
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            route(self)

    def log_message(self, *args):
        pass

    def head(self, length: int | None = None, *, close: bool = False):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if length is None or close:
            self.send_header("Connection", "close")
            self.close_connection = True
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.flush()


class Web:
    """A loopback server whose answers the test chooses, by the file name a path ends with."""

    def __init__(self):
        self.stop = threading.Event()
        self.outlasted = threading.Event()
        self.sent = 0
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.routes = {}
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def page(self, *hrefs: str) -> str:
        html = "<html>" + "".join(f'<a href="{h}">list</a>' for h in hrefs) + "</html>"
        self.serve("287g.html", html.encode())
        return f"{self.base}/287g.html"

    def serve(self, name: str, data: bytes):
        def answer(h):
            h.head(len(data))
            h.wfile.write(data)

        self.server.routes[name] = answer

    def route(self, name: str, answer: Callable[[_Handler], None]):
        self.server.routes[name] = answer


@pytest.fixture
def web():
    server = Web()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.server.shutdown()
        server.server.server_close()


def _workbook_bytes(tmp_path: Path) -> bytes:
    return write_workbook(tmp_path / "made" / "w.xlsx", participating_rows(3)).read_bytes()


@pytest.mark.parametrize(
    "link",
    [
        "files/..%2F..%2F..%2F..%2Fescaped%2FparticipatingAgencies03012026am.xlsx",
        "files/%2E%2E%2F%2E%2E%2FparticipatingAgencies03012026am.xlsx",
        "files/..%5C..%5CparticipatingAgencies03012026am.xlsx",
        "files/../../../participatingAgencies03012026am.xlsx",
    ],
)
def test_a_link_whose_name_is_a_path_lands_in_the_store_or_nowhere(settings, world, tmp_path, web, link):
    data = _workbook_bytes(tmp_path)
    before = tree(tmp_path)
    web.serve(NAME, data)
    (outcome,) = acquire(settings, web.page(link), deadline=10)
    assert (outcome.name, outcome.status) == (NAME, "added"), outcome.detail
    assert outcome.entry.file_name == NAME
    assert Store(settings.store).path_for(outcome.entry.file_sha256).read_bytes() == data
    changed = {p for p in set(tree(tmp_path).items()) ^ set(before.items())}
    assert {Path(p).parts[0] for p, _ in changed} <= {"store", "sources"}
    assert not (tmp_path / "escaped").exists()
    assert list((tmp_path / "temp").iterdir()) == []


def test_a_link_whose_name_holds_a_control_character_is_refused(settings, world, web):
    link = "files/participatingAgencies03012026am%00.xlsx"
    (outcome,) = acquire(settings, web.page(link), deadline=10)
    assert outcome.status == "refused"
    assert outcome.name.endswith("/files/participatingAgencies03012026am%00.xlsx")
    assert "holds control characters" in outcome.detail
    world.unchanged()


def _half(data: bytes):
    def answer(h):
        h.head(len(data))
        h.wfile.write(data[: len(data) // 2])
        h.wfile.flush()
        h.close_connection = True

    return answer


# The slow servers below keep at it for OUTLAST seconds, far past the tests' deadline of 2 s, and
# say whether they got to the end (``web.outlasted``): a client that holds its deadline hangs up
# long before, so a server that outlasted it means the deadline did not cut the download off.
OUTLAST = 90.0


def _for_a_long_time(web: Web, step: Callable[[], None], pause: float) -> None:
    end = time.monotonic() + OUTLAST
    while time.monotonic() < end:
        step()
        if web.stop.wait(pause):
            return
    web.outlasted.set()


def _silent_after_headers(web: Web):
    def answer(h):
        h.head(100_000)
        _for_a_long_time(web, lambda: None, 1.0)

    return answer


def _silent(web: Web):
    def answer(h):
        _for_a_long_time(web, lambda: None, 1.0)

    return answer


def _trickle(web: Web, start: Callable[[_Handler], None], piece: bytes, pause: float):
    """An answer that ``start``s, then sends ``piece`` every ``pause`` seconds for a long time."""

    def answer(h):
        start(h)

        def send():
            h.wfile.write(piece)
            h.wfile.flush()

        _for_a_long_time(web, send, pause)

    return answer


def _drip(web: Web, close: bool):
    """A byte a second: no socket timeout ever fires, and 64 KiB take 18 hours. With ``close``
    the answer says "Connection: close", and urllib3 2 then keeps no socket on the response."""
    return _trickle(web, lambda h: h.head(100_000, close=close), b"P", 1.0)


def _drip_headers(web: Web):
    """The status line, then a header line a second: the answer never begins."""
    return _trickle(web, lambda h: h.wfile.write(b"HTTP/1.1 200 OK\r\n"), b"X-Padding: 1\r\n", 1.0)


def _slow_and_endless(web: Web):
    """A kilobyte every 50 ms without end, and no length: the cap would take 17 minutes to reach."""
    return _trickle(web, lambda h: h.head(None), bytes(1024), 0.05)


def _endless(web: Web, declared: int | None = None):
    """Bytes as fast as the client takes them, up to a gigabyte, counted in ``web.sent``."""

    def answer(h):
        h.head(declared)
        block = b"PK\x03\x04" + bytes(2**16 - 4)
        for _ in range(2**30 // len(block)):
            h.wfile.write(block)
            web.sent += len(block)
            if web.stop.is_set():
                return

    return answer


SLOW = {
    "fails halfway": (lambda web, data: _half(data), "download failed after"),
    "hangs after its headers": (lambda web, data: _silent_after_headers(web), "did not finish within 2 s"),
    "never answers": (lambda web, data: _silent(web), "did not finish within 2 s"),
    "drips a byte a second": (lambda web, data: _drip(web, close=False), "did not finish within 2 s"),
    "drips a byte a second, then closes": (lambda web, data: _drip(web, close=True), "did not finish within 2 s"),
    "drips its headers": (lambda web, data: _drip_headers(web), "did not finish within 2 s"),
    "sends slowly without end": (lambda web, data: _slow_and_endless(web), "did not finish within 2 s"),
}


@pytest.mark.parametrize("server", SLOW)
def test_a_download_that_fails_or_stalls_is_refused_at_the_deadline(settings, world, tmp_path, web, server):
    make, problem = SLOW[server]
    web.route(NAME, make(web, _workbook_bytes(tmp_path)))
    discard(tmp_path / "made" / "w.xlsx")
    (outcome,) = acquire(settings, web.page(f"files/{NAME}"), deadline=2)
    # the client hung up while the server was still at it: the deadline, not the server, ended it
    assert not web.outlasted.is_set()
    assert (outcome.name, outcome.status) == (NAME, "refused")
    assert problem in outcome.detail
    world.unchanged()


@pytest.mark.parametrize("declared", [None, 4 * 2**30])
def test_a_response_larger_than_any_list_is_cut_at_the_cap(settings, world, web, declared):
    web.route(NAME, _endless(web, declared))
    (outcome,) = acquire(settings, web.page(f"files/{NAME}"), deadline=60)
    assert (outcome.name, outcome.status) == (NAME, "refused")
    if declared is None:
        assert f"sent more than {MAX_DOWNLOAD_BYTES:,} bytes" in outcome.detail
    else:
        assert f"declares {declared:,} bytes, more than any list" in outcome.detail
    # streamed: the client stopped reading at the cap (socket buffers hold a few mebibytes more)
    web.stop.set()
    assert web.sent < 2 * MAX_DOWNLOAD_BYTES
    world.unchanged()


def test_acquire_in_bounded_memory_refuses_an_endless_response(settings, world, tmp_path, web):
    """The same refusal in a process limited to MEMORY_LIMIT, against a gigabyte on offer."""
    web.route(NAME, _endless(web))
    page = web.page(f"files/{NAME}")
    result = run_limited(settings, tmp_path / "temp", "-m", "ice287g.cli", "acquire", "--page-url", page)
    assert result.returncode == 1, result.stderr[-2000:]
    assert f"{NAME}: refused (sent more than {MAX_DOWNLOAD_BYTES:,} bytes" in result.stderr
    world.unchanged()


# --- round two: what the grid scan and the reader bound -----------------------------------------
# Repetitive hostile files are written with level=0 (stored deflate blocks): deflated, the
# compression-ratio check would refuse them first, and the check under test would not run.

FAR = b'<row r="1"><c r="XFD1048576"><v>1</v></c></row>'


def a_list(extra: str = "", rows: int = 3) -> list[bytes]:
    """A participating list of ``rows`` rows whose first agency name ends with ``extra``."""
    table = participating_rows(rows)
    body = [[str(v) for v in row[:6]] for row in table]
    body[1][1] += extra
    return list(list_rows(body))


def sst(*strings: str) -> str:
    items = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    return f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">{items}</sst>'


def shared_cells(rows: int, columns: int) -> Iterator[bytes]:
    """``rows`` x ``columns`` cells from A2 that all show shared string 0, under a list's header."""
    header = "".join(
        f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(PARTICIPATING_HEADER)
    )
    yield f'<row r="1">{header}</row>'.encode()
    for r in range(2, rows + 2):
        yield (
            f'<row r="{r}">' + "".join(f'<c r="{chr(65 + c)}{r}" t="s"><v>0</v></c>' for c in range(columns)) + "</row>"
        ).encode()


def hyperlinked(*refs: str) -> tuple[bytes, dict[str, str]]:
    """The end of a sheet with hyperlinks over ``refs``, and the relationships part they name."""
    links = "".join(f'<hyperlink ref="{ref}" r:id="rId1"/>' for ref in refs)
    end = f"</sheetData><hyperlinks>{links}</hyperlinks></worksheet>".encode()
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="https://www.ice.gov/doclib/287gMOA/a.pdf" TargetMode="External" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"/></Relationships>'
    )
    return end, {"xl/worksheets/_rels/sheet1.xml.rels": rels}


LINKED_START = (
    f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheetData>'
).encode()

ROUND_TWO = {
    # a byte before the XML: calamine's parser skips it, a scan that looked for "<" first did not
    "a form feed before the XML, a cell at XFD1048576": (
        lambda p: write_package(p, [FAR], start=b"\f" + SHEET_START),
        "is not XML: it begins with b'\\x0c'",
    ),
    "a letter before the XML, a cell at XFD5000": (
        lambda p: write_package(p, [b'<row r="1"><c r="XFD5000"><v>1</v></c></row>'], start=b"x" + SHEET_START),
        "is not XML: it begins with b'x'",
    ),
    "a letter before a billion laughs": (
        lambda p: write_package(p, shared_string_sheet(), shared_strings=b"x" + _billion_laughs().encode()),
        "is not XML",
    ),
    "a sheet kept under a name that is no XML part": (
        lambda p: write_package(
            p,
            [FAR],
            start=b"\f" + SHEET_START,
            sheet="xl/worksheets/sheet1.dat",
            parts={
                "xl/_rels/workbook.xml.rels": PACKAGE["xl/_rels/workbook.xml.rels"].replace(
                    "worksheets/sheet1.xml", "worksheets/sheet1.dat"
                )
            },
        ),
        "which is no XML part",
    ),
    "a far cell quoted with apostrophes": (
        lambda p: write_package(p, [b"<row r='1'><c r='XFD5000'><v>1</v></c></row>"]),
        "reaches column XFD (cell XFD5000)",
    ),
    # memory inside the size limits: what calamine would copy from shared strings
    "one long shared string in every cell": (
        lambda p: write_package(p, shared_cells(19_000, 5), shared_strings=sst("A" * 20_000), level=0),
        "holds a shared string of more than 8,192 bytes",
    ),
    "a shared string of 4 kB in 95,000 cells": (
        lambda p: write_package(p, shared_cells(19_000, 5), shared_strings=sst("A" * 4_000), level=0),
        "cells referring to shared strings of up to",
    ),
    "a valid list whose empty cells show a 900,000-character string": (
        lambda p: write_package(p, shared_cells(3, 8), shared_strings=sst("Sheriff " * 112_500), level=0),
        "member xl/sharedStrings.xml holds a text of more than 32,768 bytes",
    ),
    "a list with a 5 MB agency name": (
        lambda p: write_package(p, a_list(" Sheriff" * 655_360), level=0),
        "holds a text of more than 32,768 bytes",
    ),
    "a list with a 3,000-character agency name": (
        lambda p: write_package(p, a_list("x" * 3_000)),
        "holds 3,0",
    ),
    "one hyperlink over the whole grid": (
        lambda p: write_package(
            p, a_list(), start=LINKED_START, end=hyperlinked("A1:XFD1048576")[0], parts=hyperlinked()[1]
        ),
        "covers A1:XFD1048576, beyond the grid of any list",
    ),
    "3,000 large hyperlink ranges": (
        lambda p: write_package(
            p, a_list(), start=LINKED_START, end=hyperlinked(*["A1:AZ20000"] * 3_000)[0], parts=hyperlinked()[1]
        ),
        "cover more than 100,000 cells",
    ),
}


@pytest.mark.parametrize("case", ROUND_TWO)
def test_what_the_reader_would_build_is_bounded_before_it_builds_it(settings, world, tmp_path, case):
    """Each is refused naming the file and the problem, in a process allowed MEMORY_LIMIT, and
    nothing of it is registered or left behind."""
    make, problem = ROUND_TWO[case]
    path = make(tmp_path / "incoming" / NAME)
    result = add_limited(settings, tmp_path / "temp", path)
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert f"error: {path}: " in result.stderr and problem in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    discard(path)
    world.unchanged()


def test_a_page_that_links_more_workbooks_than_any_287g_page_is_refused_at_once(settings, world, web):
    from ice287g.pipeline.intake.acquire import MAX_LINKS

    links = [f"files/participatingAgencies{n:08d}am.xlsx" for n in range(40_000)]
    with pytest.raises(
        InputError, match=f"the page links 40,000 workbooks, more than any 287\\(g\\) page \\({MAX_LINKS}\\)"
    ):
        acquire(settings, web.page(*links), deadline=10)
    assert web.sent == 0  # not one workbook was asked for
    world.unchanged()


def test_acquire_holds_one_deadline_over_all_its_downloads(settings, world, web):
    """Three links that each stall for longer than the whole acquire may take: the first is cut
    at its own deadline, the rest when the acquire's time is up, and none outlasts the server."""
    names = [f"participatingAgencies0301202{n}am.xlsx" for n in range(3)]
    for name in names:
        web.route(name, _drip(web, close=True))
    outcomes = acquire(settings, web.page(*(f"files/{n}" for n in names)), deadline=2, total_deadline=3)
    assert not web.outlasted.is_set()
    assert [o.status for o in outcomes] == ["refused"] * 3
    assert "did not finish within 2 s" in outcomes[0].detail
    assert "did not finish within" in outcomes[1].detail  # in what was left of the 3 s
    assert "the 3 s for all downloads had passed" in outcomes[2].detail
    world.unchanged()


def test_a_killed_acquire_leaves_no_folder_the_next_does_not_remove(settings, world, tmp_path, web):
    web.route(NAME, _drip(web, close=True))
    page = web.page(f"files/{NAME}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICE287G_")}
    env |= {"PYTHONPATH": str(REPO / "src"), "ICE287G_ROOT": str(REPO), "ICE287G_REGISTRY": str(settings.registry)}
    env |= {"ICE287G_STORE": str(settings.store), "ICE287G_BUILD_DIR": str(settings.build_dir)}
    env |= {"ICE287G_MIRROR": str(settings.mirror)}
    running = subprocess.Popen([sys.executable, "-m", "ice287g.cli", "acquire", "--page-url", page], env=env)
    deadline = time.monotonic() + 60  # a guard against a hung test, not a measure of speed
    while not list(settings.build_dir.glob(".acquire*/*/*")):  # the download has begun
        assert running.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    running.kill()
    running.wait()
    assert list(settings.build_dir.glob(".acquire*"))  # SIGKILL: nothing could clean up
    web.serve("287g.html", b"<html>no lists today</html>")
    with pytest.raises(InputError, match="links to no participating"):
        acquire(settings, page, deadline=2)
    assert not list(settings.build_dir.glob(".acquire*"))
    world.unchanged()
