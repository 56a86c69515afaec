"""Download one file from a URL a web page gave us, bounded: a safe name, a size cap, a deadline.

The page is not trusted: the file name is reduced to a plain basename, the body is streamed to
a file in a folder the caller owns (never held in memory), and a download that grows past the
cap or outlasts the deadline is cut off. A refused download raises InputError naming the URL.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import unicodedata
from pathlib import Path
from urllib.parse import unquote, urlparse

import requests

from ice287g.errors import InputError

# ICE's largest workbook is 208 kB and its 287(g) page a few hundred kB: a hundred times that
# is still no list, and small enough that a hostile answer cannot fill a disk.
MAX_DOWNLOAD_BYTES = 20 * 2**20
# A whole download, counted from the request: the body is cut off when it passes. The lists take
# a second or two; a server that sends a byte every few seconds never trips a socket timeout.
DOWNLOAD_DEADLINE_SECONDS = 120.0
# Before the first byte of an answer, each attempt waits at most these (connections refused and
# busy answers are retried three times, see intake._session; a silent server is not).
CONNECT_TIMEOUT_SECONDS = 15.0
READ_TIMEOUT_SECONDS = 30.0  # the longest silence between two reads, and never more than the deadline
_CHUNK_BYTES = 64 * 1024
_MAX_NAME_CHARACTERS = 200  # far more than ICE's names (about 40), within every file system's limit


def safe_file_name(url: str) -> str:
    """The decoded last segment of the URL's path, reduced to a plain file name.

    A name that decodes to a path (``..%2F..%2Fx.xlsx``, ``a%5Cb.xlsx``) keeps only its last part;
    a name with control characters, or nothing left, is refused.
    """
    segment = unquote(urlparse(url).path.rsplit("/", 1)[-1])
    name = segment.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        raise InputError(url, f"the link's file name {segment!r} holds control characters")
    if name in ("", ".", "..") or name.startswith("."):
        raise InputError(url, f"the link's file name {segment!r} is no plain file name")
    if len(name) > _MAX_NAME_CHARACTERS:
        raise InputError(url, f"the link's file name is {len(name)} characters long")
    return name


class _Deadline:
    """Shuts the response's socket when the deadline passes, so a read blocked on a silent or
    dripping server returns at once; ``expired`` tells the reader why the body ended."""

    def __init__(self, response: requests.Response, seconds: float):
        connection = getattr(response.raw, "connection", None)
        self._sock: socket.socket | None = getattr(connection, "sock", None)
        self._lock = threading.Lock()
        self._done = False
        self.expired = False
        self._timer = threading.Timer(max(seconds, 0.0), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            if self._sock is not None:
                # already closed means the read has ended anyway
                with contextlib.suppress(OSError):
                    self._sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        with self._lock:
            self._done = True
        self._timer.cancel()


def download(
    session: requests.Session,
    url: str,
    folder: Path,
    *,
    name: str | None = None,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    deadline: float = DOWNLOAD_DEADLINE_SECONDS,
) -> Path:
    """Stream ``url`` into a new file in ``folder`` (default name: ``safe_file_name(url)``).

    Raises InputError naming the URL when the server answers anything but 200, the body passes
    ``max_bytes``, the whole download outlasts ``deadline`` seconds, or the connection fails; the
    partial file is then removed.
    """
    target = folder / (name or safe_file_name(url))
    if target.resolve().parent != folder.resolve():
        raise InputError(url, f"the file name {target.name!r} would leave the download folder")
    start = time.monotonic()
    received = 0
    timer: _Deadline | None = None

    def late() -> bool:
        return (timer is not None and timer.expired) or time.monotonic() - start > deadline

    def too_slow() -> InputError:
        return InputError(url, f"the download did not finish within {deadline:g} s ({received:,} bytes received)")

    try:
        with session.get(
            url,
            stream=True,
            timeout=(CONNECT_TIMEOUT_SECONDS, min(READ_TIMEOUT_SECONDS, deadline)),
            # a workbook is already compressed; asking for it plain keeps the byte count honest
            headers={"Accept-Encoding": "identity"},
        ) as response:
            if response.status_code != 200:
                raise InputError(url, f"answered HTTP {response.status_code}")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise InputError(url, f"declares {int(declared):,} bytes, more than any list ({max_bytes:,})")
            timer = _Deadline(response, deadline - (time.monotonic() - start))
            try:
                # "x": never follow or replace a file that is already there
                with open(target, "xb") as fh:
                    for chunk in response.iter_content(_CHUNK_BYTES):
                        received += len(chunk)
                        if received > max_bytes:
                            raise InputError(url, f"sent more than {max_bytes:,} bytes, more than any list")
                        if late():
                            break
                        fh.write(chunk)
            finally:
                timer.cancel()
            if late():
                raise too_slow()
    except requests.RequestException as exc:
        target.unlink(missing_ok=True)
        if late():
            raise too_slow() from exc
        raise InputError(url, f"download failed after {received:,} bytes ({exc})") from exc
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target
