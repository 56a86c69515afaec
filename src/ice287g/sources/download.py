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
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlparse

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ice287g.errors import InputError

# ICE's largest workbook is 224 kB (May 2026) and its 287(g) page a few hundred kB: a hundred times that
# is still no list, and small enough that a hostile answer cannot fill a disk.
MAX_DOWNLOAD_BYTES = 20 * 2**20
# A whole download, counted from the request: the body is cut off when it passes. The lists take
# a second or two; a server that sends a byte every few seconds never trips a socket timeout.
DOWNLOAD_DEADLINE_SECONDS = 120.0
# Each attempt waits at most these for a connection and between two reads, and never longer than
# the time left before the deadline (connections refused and busy answers are asked again).
CONNECT_TIMEOUT_SECONDS = 15.0
READ_TIMEOUT_SECONDS = 30.0
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


USER_AGENT = "ice287g (open data package of the 287(g) program)"
# Answers worth asking again: the server was busy. A refused connection is retried too; a read
# that timed out is not, since it has had its share of the deadline.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
ATTEMPTS = 4
RETRY_PAUSE_SECONDS = 1.0  # doubled after each attempt, never past the deadline


class _Watchdog:
    """Shuts every socket one download opens when its deadline passes.

    A blocked read returns only when data or a timeout comes, and a server that sends a byte a
    second never lets a socket timeout fire; urllib3 2 keeps no socket on the response once the
    headers are read. So each connection hands its socket over as it connects (``watch``) and
    the watchdog shuts it from its own thread: a read blocked on the headers or on the body then
    returns at once, and ``expired`` tells the reader why it ended. A connection made after the
    deadline is shut as soon as it is watched."""

    _current = threading.local()

    def __init__(self, seconds: float):
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._done = False
        self.expired = False
        self._timer = threading.Timer(max(seconds, 0.0), self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        _Watchdog._current.watchdog = self
        self._timer.start()
        return self

    def __exit__(self, *_exc) -> None:
        with self._lock:
            self._done = True
        self._timer.cancel()
        _Watchdog._current.watchdog = None

    @classmethod
    def watch_current(cls, sock: socket.socket | None) -> None:
        """Put ``sock`` under the watchdog of the download running in this thread, if any."""
        watchdog = getattr(cls._current, "watchdog", None)
        if watchdog is not None and sock is not None:
            watchdog._watch(sock)

    def _watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    # already closed means the read has ended anyway
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _WatchedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _Watchdog.watch_current(self.sock)


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _Watchdog.watch_current(self.sock)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter whose connections (direct or through a proxy) are watched."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, *args, **kwargs):
        manager = super().proxy_manager_for(*args, **kwargs)
        manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


def session() -> requests.Session:
    """A session for ``download``: watched connections, one per request, no retries of its own
    (``download`` retries within its deadline)."""
    client = requests.Session()
    for scheme in ("http://", "https://"):
        client.mount(scheme, _WatchedAdapter(max_retries=0))
    # a fresh connection per request: a kept-alive one would have been watched by another download
    client.headers.update({"User-Agent": USER_AGENT, "Connection": "close"})
    return client


def download(
    client: requests.Session,
    url: str,
    folder: Path,
    *,
    name: str | None = None,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    deadline: float = DOWNLOAD_DEADLINE_SECONDS,
) -> Path:
    """Stream ``url`` into a new file in ``folder`` (default name: ``safe_file_name(url)``).

    ``client`` comes from ``session()``. Raises InputError naming the URL when the server answers
    anything but 200, the body passes ``max_bytes``, the whole download (every attempt, headers
    and body) outlasts ``deadline`` seconds, or the connection fails; the partial file is then
    removed.
    """
    target = folder / (name or safe_file_name(url))
    if target.resolve().parent != folder.resolve():
        raise InputError(url, f"the file name {target.name!r} would leave the download folder")
    start = time.monotonic()
    received = 0

    def left() -> float:
        return deadline - (time.monotonic() - start)

    def too_slow() -> InputError:
        return InputError(url, f"the download did not finish within {deadline:g} s ({received:,} bytes received)")

    with _Watchdog(deadline) as watchdog:
        try:
            response = _answer(client, url, left, watchdog)
            with response:
                if response.status_code != 200:
                    raise InputError(url, f"answered HTTP {response.status_code}")
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise InputError(url, f"declares {int(declared):,} bytes, more than any list ({max_bytes:,})")
                # "x": never follow or replace a file that is already there
                with open(target, "xb") as fh:
                    for chunk in response.iter_content(_CHUNK_BYTES):
                        received += len(chunk)
                        if received > max_bytes:
                            raise InputError(url, f"sent more than {max_bytes:,} bytes, more than any list")
                        if watchdog.expired:
                            raise too_slow()
                        fh.write(chunk)
                if watchdog.expired or left() <= 0:
                    raise too_slow()
        except requests.RequestException as exc:
            target.unlink(missing_ok=True)
            if watchdog.expired or left() <= 0:
                raise too_slow() from exc
            raise InputError(url, f"download failed after {received:,} bytes ({exc})") from exc
        except BaseException:
            target.unlink(missing_ok=True)
            raise
    return target


def _answer(client: requests.Session, url: str, left: Callable[[], float], watchdog: _Watchdog) -> requests.Response:
    """The server's answer to ``url`` once its headers are in, asking again (within the time
    ``left``) when the connection is refused or the server is busy; the last answer as it is. A
    server's Retry-After is not obeyed: it could ask for days."""
    pause = RETRY_PAUSE_SECONDS
    for attempt in range(1, ATTEMPTS + 1):
        if left() <= 0:
            raise requests.Timeout(f"no time left for attempt {attempt}")
        try:
            response = client.get(
                url,
                stream=True,
                timeout=(min(CONNECT_TIMEOUT_SECONDS, left()), min(READ_TIMEOUT_SECONDS, left())),
                # a workbook is already compressed; asking for it plain keeps the byte count honest
                headers={"Accept-Encoding": "identity"},
            )
        except requests.ConnectionError:
            if attempt == ATTEMPTS or watchdog.expired or left() <= pause:
                raise
        else:
            if response.status_code not in RETRY_STATUSES or attempt == ATTEMPTS or left() <= pause:
                return response
            response.close()
        time.sleep(pause)
        pause *= 2
    raise AssertionError("unreachable: the last attempt returns or raises")
