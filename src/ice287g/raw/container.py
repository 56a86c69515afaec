"""A workbook's container, checked before any reader parses a byte of it: the zip's members
bounded (no zip bomb, no encrypted or legacy file), every sheet scanned for endless grids and
XML entity tricks, and shared strings bounded; ``check_container`` returns the members inflated
once, for the reader (``ice287g.raw.workbook``).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

from ice287g.errors import InputError
from ice287g.util import inflate

# a cell reference (B12, $AB$7): its column letters and its row number
CELL_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")

# Bounds checked before python-calamine reads a workbook. ICE's lists are small: the largest file
# of the archive is 208 kB and inflates to 1.4 MB, the longest list has 1,561 rows, the widest
# sheet 13 columns (A to M). Each cap is far above any real list and far below what would exhaust
# memory: calamine holds a sheet as a dense grid of rows x columns, and a 9 MB zip bomb with a 2 GB
# sheet once took 8 GB before it failed.
MAX_FILE_BYTES = 20 * 2**20  # on disk: a hundred times the largest real file
MAX_INFLATED_BYTES = 100 * 2**20  # every member inflated, together: seventy times the largest real workbook
# Real members compress at most 13 to 1; a bomb at hundreds to one. Below a mebibyte no member can
# hurt, whatever its ratio.
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_FROM_BYTES = 2**20
MAX_ROWS = 20_000  # rows of one sheet, and its highest row number: eleven times the longest list
MAX_COLUMNS = 52  # columns A to AZ: four times the widest list
# What calamine would build beyond the grid, bounded before it builds it. It copies a shared string
# into every cell that refers to it: the longest shared string of the archive is 256 bytes of XML
# and the most cells referring to shared strings in one sheet 10,544, so 2.7 MB; a cell's text is
# at most 125 characters and a link's 525, and a sheet links at most 1,661 cells.
MAX_SHARED_STRING_BYTES = 8 * 2**10  # one <si> entry, with its tags: thirty times the longest
MAX_SHARED_TEXT_BYTES = 64 * 2**20  # cells referring to shared strings x the longest: 24 times the archive's
MAX_TEXT_RUN_BYTES = 32 * 2**10  # text between two tags: a run of twice this is always refused
MAX_CELL_CHARACTERS = 2_000  # a cell's text or link once read: four times the longest; dbt compares names pairwise
MAX_LINKED_CELLS = 100_000  # cells one sheet's hyperlinks cover: sixty times the most links of a list
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 files, and encrypted .xlsx
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")  # the stream an encrypted OOXML file holds
# The sheet XML is scanned with byte patterns rather than parsed: an XML parser's per-element
# callbacks would take longer than calamine takes to read the whole archive, and patterns that
# begin with a literal are searched at C speed. Tags never hold ``<`` or ``>``, so a scan cut at a
# ``<`` sees every tag whole. calamine reads elements by local name, so prefixed tags
# (``<x:row>``), which Excel never writes, get slower patterns of their own.
_PREFIXED_TAG = re.compile(rb"<[A-Za-z_][\w.-]*:")
_ROW_TAG = re.compile(rb"<(?:[\w.-]+:)?row(?=[\s/>])")
# Only references that could pass a cap: a row number of five digits, a column of two letters.
# Unprefixed, only <row> and <c> carry an r attribute; DrawingML (a theme's <a:fillToRect r=...>) is prefixed.
# XML quotes an attribute with " or ', and calamine reads both: so does every pattern here.
_FAR_REF = re.compile(rb"""r=["'](\d{5,}|[A-Z]{2,}\d+|[A-Z]+\d{5,})["']""")
_FAR_REF_PREFIXED = re.compile(
    rb"""<(?:[\w.-]+:)?(?:row|c)(?=[\s/>])[^>]*?\sr=["'](\d{5,}|[A-Z]{2,}\d+|[A-Z]+\d{5,})["']"""
)
_BARE_CELL = re.compile(rb"""<c(?=[\s/>])(?![^>]*?\sr=["'])""")
_BARE_CELL_PREFIXED = re.compile(rb"""<(?:[\w.-]+:)?c(?=[\s/>])(?![^>]*?\sr=["'])""")
_DIMENSION = re.compile(rb"""dimension\s[^>]*?ref=["']([^"']*)["']""")
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_SHARED_STRING_TAG = re.compile(rb"<(/?)(?:[\w.-]+:)?si(?=[\s/>])")
_SHARED_STRING_ENTRY = re.compile(rb"<si(?=[\s/>]).*?</si(?=[\s/>])", re.DOTALL)
_SHARED_STRING_CLOSE = re.compile(rb"</si(?=[\s/>])")
_TAG_NAME_ENDS = (b" ", b"\t", b"\r", b"\n", b"/", b">")
# The parts calamine parses as XML, by name: every other member is only counted. The workbook's
# own relationships must name such parts (see _sheet_parts), so no sheet hides under another name.
XML_PARTS = (".xml", ".rels", ".vml")
_XML_WHITESPACE = b" \t\r\n"


def column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


# A workbook's members once inflated, by name: what check_container returns and the reader parses.
Members = dict[str, bytes]


def _refuse_by_signature(path: Path, display: str) -> None:
    """Name what a file is when it is not a zip: empty, HTML, legacy or encrypted Excel, text."""
    size = path.stat().st_size
    if size == 0:
        raise InputError(display, "the file is empty (0 bytes)")
    if size > MAX_FILE_BYTES:
        raise InputError(display, f"the file is {size:,} bytes, more than any list could be ({MAX_FILE_BYTES:,})")
    with open(path, "rb") as fh:
        head = fh.read(512)
    if head.startswith(b"PK"):
        return
    if head.startswith(_OLE2_MAGIC):
        # The size cap above bounds this read.
        if _ENCRYPTION_INFO in path.read_bytes():
            raise InputError(display, "the workbook is encrypted (password-protected); save it without a password")
        raise InputError(display, "legacy .xls (Excel 97-2003) workbook, save it as .xlsx")
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if text.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body")):
        raise InputError(display, "this is an HTML/XML page saved under a workbook name, not an .xlsx workbook")
    if not any(b < 32 and b not in b"\t\n\r\f" for b in head):
        raise InputError(display, "this is plain text (a CSV?) saved under a workbook name, not an .xlsx workbook")
    raise InputError(display, "not an .xlsx workbook (no zip signature)")


def _check_members(infos: list[zipfile.ZipInfo], display: str) -> None:
    """Refuse what the zip's directory declares: encryption, odd compression, sizes, ratios."""
    names = [info.filename for info in infos]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        # two members of one name: this reader and calamine could each read a different one
        raise InputError(display, f"the workbook holds two members named {twice[0]}")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise InputError(display, f"the workbook is encrypted (member {info.filename} needs a password)")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise InputError(
                display,
                f"member {info.filename} uses compression method {info.compress_type}, which Excel never writes",
            )
        total += info.file_size
        if total > MAX_INFLATED_BYTES:
            raise InputError(
                display,
                f"the workbook declares more than {MAX_INFLATED_BYTES:,} bytes once inflated "
                f"(member {info.filename}: {info.file_size:,}): far more than any list, refused as a zip bomb",
            )
        if info.file_size >= RATIO_CHECKED_FROM_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(
            info.compress_size, 1
        ):
            raise InputError(
                display,
                f"member {info.filename} inflates {info.file_size // max(info.compress_size, 1):,} times "
                f"(more than {MAX_COMPRESSION_RATIO}): refused as a zip bomb",
            )


def _last_tag(data: bytes, start: bytes) -> int:
    """Where the last tag that begins with ``start`` (and no longer name) is in ``data``; -1 if none."""
    at = data.rfind(start)
    while at >= 0 and data[at + len(start) : at + len(start) + 1] not in _TAG_NAME_ENDS:
        at = data.rfind(start, 0, at)
    return at


class _SheetScan:
    """Counts what calamine would build from one XML member, fed its bytes as they are inflated:
    rows, far cells, a DTD, long texts, shared strings and the cells that refer to them."""

    def __init__(self, display: str, member: str):
        self.display = display
        self.member = member
        self.rows = 0
        self.shared_cells = 0  # cells whose value is an index into the shared strings
        self.longest_shared = 0  # bytes of the longest <si> entry, tags included
        self.carry = b""
        self.consumed = 0  # bytes scanned before the current data
        self.shared_from: int | None = None  # where the open <si> entry began
        self.started = False

    def feed(self, chunk: bytes) -> None:
        if not self.started:
            chunk = self._start(chunk)
        data = self.carry + chunk
        last_open, last_close = data.rfind(b"<"), data.rfind(b">")
        # scan only whole tags and whole texts: an unfinished tag, or the text after the last tag,
        # is scanned again with the next chunk
        cut = last_open if last_open > last_close else last_close + 1
        data, self.carry = data[:cut], data[cut:]
        if len(self.carry) > 2 * MAX_TEXT_RUN_BYTES:
            self._long_text()
        self._scan(data)
        self.consumed += len(data)

    def _start(self, chunk: bytes) -> bytes:
        self.started = True
        head = chunk.removeprefix(b"\xef\xbb\xbf")
        if head.startswith((b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")):
            # the byte patterns below read UTF-8 only; Excel never writes anything else
            raise InputError(self.display, f"member {self.member} is not UTF-8 XML")
        first = head.lstrip(_XML_WHITESPACE)[:1]
        if first and first != b"<":
            # calamine's parser skips what comes before the first tag; the scan would not
            self._refuse(f"is not XML: it begins with {first!r} where XML begins with '<'")
        return head

    def close(self) -> None:
        self._scan(self.carry)
        self.consumed += len(self.carry)
        self.carry = b""

    def _refuse(self, problem: str):
        raise InputError(self.display, f"member {self.member} {problem}")

    def _long_text(self):
        self._refuse(f"holds a text of more than {MAX_TEXT_RUN_BYTES:,} bytes: far more than any cell")

    def _scan(self, data: bytes) -> None:
        if b"<!" in data and _DTD.search(data):
            # No workbook needs a DTD; external entities and "billion laughs" need one.
            self._refuse(
                "declares a DTD (<!DOCTYPE>/<!ENTITY>), which no workbook needs: refused as an XML entity attack"
            )
        # every run of twice the cap holds a whole window of the cap with no tag in it
        for start in range(0, len(data) - MAX_TEXT_RUN_BYTES + 1, MAX_TEXT_RUN_BYTES):
            if data.find(b"<", start, start + MAX_TEXT_RUN_BYTES) < 0:
                self._long_text()
        prefixed = _PREFIXED_TAG.search(data) is not None
        # "<row" also counts <rowBreaks>: a few more, never fewer
        self.rows += len(_ROW_TAG.findall(data)) if prefixed else data.count(b"<row")
        if self.rows > MAX_ROWS:
            self._refuse(f"has more than {MAX_ROWS:,} rows: far more than any list")
        for far in (_FAR_REF_PREFIXED if prefixed else _FAR_REF).finditer(data):
            if not prefixed and data[far.start() - 1 : far.start()] not in (b" ", b"\t", b"\r", b"\n"):
                continue  # an attribute whose name only ends in r
            ref = far.group(1).decode()
            if ref.isdigit() and int(ref) > MAX_ROWS:
                self._refuse(f"has a row numbered {int(ref):,}, beyond the {MAX_ROWS:,} rows of any list")
            self._check_cell(ref)
        if (_BARE_CELL_PREFIXED if prefixed else _BARE_CELL).search(data):
            # calamine would place such cells one after the other, so a row's width is unbounded
            self._refuse("has cells without a reference (no r attribute), which Excel always writes")
        if dimension := _DIMENSION.search(data):
            self._check_cell(dimension.group(1).decode().split(":")[-1].replace("$", ""))
        if b"t=" in data:
            # counted as bytes, without the whitespace before: a few more, never fewer
            self.shared_cells += data.count(b't="s"') + data.count(b"t='s'")
        if b"<si" in data or b"/si" in data or b":si" in data:
            (self._shared_strings_prefixed if prefixed else self._shared_strings)(data)

    def _shared_strings(self, data: bytes) -> None:
        """The length of every <si> entry, even one that spans many chunks: entries are matched
        whole in C (a sheet has thousands), and only the ends of ``data`` are looked at here."""
        start = 0
        if self.shared_from is not None:
            close = _SHARED_STRING_CLOSE.search(data)
            end = close.start() if close else len(data)
            self.longest_shared = max(self.longest_shared, self.consumed + end - self.shared_from)
            if close is None:
                return self._check_shared_length()
            self.shared_from, start = None, close.start()
        entries = _SHARED_STRING_ENTRY.findall(data, start)
        # measured, as an open entry is, up to the start of its closing tag
        self.longest_shared = max(self.longest_shared, max(map(len, entries), default=0) - len(b"</si"))
        # an entry still open at the end: its last opening tag after the last closing one
        opened = _last_tag(data, b"<si")
        if opened > _last_tag(data, b"</si"):
            self.shared_from = self.consumed + opened
            self.longest_shared = max(self.longest_shared, len(data) - opened)
        self._check_shared_length()

    def _shared_strings_prefixed(self, data: bytes) -> None:
        """As ``_shared_strings``, tag by tag, for the prefixed tags that Excel never writes."""
        for tag in _SHARED_STRING_TAG.finditer(data):
            at = self.consumed + tag.start()
            if not tag.group(1):
                self.shared_from = at
            elif self.shared_from is not None:
                self.longest_shared = max(self.longest_shared, at - self.shared_from)
                self.shared_from = None
        if self.shared_from is not None:
            self.longest_shared = max(self.longest_shared, self.consumed + len(data) - self.shared_from)
        self._check_shared_length()

    def _check_shared_length(self) -> None:
        if self.longest_shared > MAX_SHARED_STRING_BYTES:
            self._refuse(
                f"holds a shared string of more than {MAX_SHARED_STRING_BYTES:,} bytes: far more than any cell"
            )

    def _check_cell(self, ref: str) -> None:
        m = CELL_REF.match(ref)
        if not m:
            return
        row, column = int(m.group(2)), column_number(m.group(1))
        if row > MAX_ROWS:
            self._refuse(f"reaches row {row:,} (cell {ref}), beyond the {MAX_ROWS:,} rows of any list")
        if column > MAX_COLUMNS:
            self._refuse(f"reaches column {m.group(1)} (cell {ref}), beyond the {MAX_COLUMNS} columns of any list")


def _inflate_bounded(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, display: str, budget: int
) -> tuple[bytes, _SheetScan | None]:
    """Inflate one member within what is left of the workbook's budget, scanning it when it is an
    XML part; returns its bytes and its scan."""
    # by name, whatever it begins with: what calamine parses as XML is scanned as XML
    scan = _SheetScan(display, info.filename) if info.filename.lower().endswith(XML_PARTS) else None
    size, kept = 0, []
    # _check_members has refused every member that declares more than the workbook's whole cap
    for chunk in inflate.chunks(zf, info, MAX_INFLATED_BYTES, display):
        size += len(chunk)
        if size > budget:
            raise InputError(
                display, f"the workbook inflates to more than {MAX_INFLATED_BYTES:,} bytes: refused as a zip bomb"
            )
        if scan is not None:
            scan.feed(chunk)
        kept.append(chunk)
    if scan is not None:
        scan.close()
    return b"".join(kept), scan


def _check_shared_text(scans: list[_SheetScan], display: str) -> None:
    """calamine copies a shared string into each cell that refers to it: refuse a sheet whose
    cells could build more shared text than any list (its count of such cells times the longest)."""
    longest = max((scan.longest_shared for scan in scans), default=0)
    for scan in scans:
        if scan.shared_cells * longest > MAX_SHARED_TEXT_BYTES:
            raise InputError(
                display,
                f"member {scan.member} has {scan.shared_cells:,} cells referring to shared strings of up to "
                f"{longest:,} bytes: more than {MAX_SHARED_TEXT_BYTES:,} bytes of text once read, far more than any "
                "list",
            )


def check_container(path: Path, display: str | None = None) -> Members:
    """Refuse, before anything inflates it, a file that is no .xlsx or could exhaust memory.

    Names what the file is when it is no zip (empty, HTML, legacy or encrypted Excel, text); then
    checks the sizes the zip declares, and inflates every member a chunk at a time with a running
    count, checking each sheet's rows, row numbers and columns and refusing any DTD. Raises
    InputError naming ``display`` (default: the file's name) and the problem.

    Returns the members so inflated (at most ``MAX_INFLATED_BYTES`` in all), which the reader
    parses: each member is inflated once, for the check and the read.
    """
    display = display or path.name
    _refuse_by_signature(path, display)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_members(infos, display)
            budget, scans, members = MAX_INFLATED_BYTES, [], {}
            for info in infos:
                data, scan = _inflate_bounded(zf, info, display, budget)
                budget -= len(data)
                members[info.filename] = data
                scans += [scan] if scan is not None else []
            _check_shared_text(scans, display)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as exc:
        raise InputError(display, f"corrupt or truncated workbook ({exc})") from exc
    return members
