"""The local content-addressed store of raw bytes, and how a registered file gets into it.

A file is looked for in the store, then in a mirror folder, then fetched from its pinned URL
(pooch, with retries). Every copy is checked against the registry's sha256 and size before use; a
mirror or downloaded copy that does not match is never used and never kept, and a store copy that
no longer matches is moved aside into ``<store>/corrupt/`` (never deleted) and reported.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import pooch

from ice287g.errors import InputError
from ice287g.util.hashing import sha256_of

DEFAULT_SUFFIX = ".xlsx"


class Registered(Protocol):
    """What resolving needs of a registered file (a snapshot Entry or a reference); read only."""

    file_sha256: str
    file_name: str
    bytes: int
    url: str
    mirror_path: str
    short: str


def suffix_for(file_name: str) -> str:
    """The store suffix for a file: its name's extension in lower case, else ``.xlsx``."""
    suffix = Path(file_name).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,10}", suffix) else DEFAULT_SUFFIX


class Store:
    """Files kept as ``<root>/sha256/<first two hex>/<sha256><suffix>``, the suffix from the file name."""

    def __init__(self, root: Path):
        self.root = root

    def path_for(self, sha256: str, suffix: str = DEFAULT_SUFFIX) -> Path:
        return self.root / "sha256" / sha256[:2] / f"{sha256}{suffix}"

    def has(self, sha256: str, suffix: str = DEFAULT_SUFFIX) -> bool:
        return self.path_for(sha256, suffix).exists()

    def put_file(self, source: Path, sha256: str, suffix: str = DEFAULT_SUFFIX) -> Path:
        """Copy ``source`` in atomically, after checking it hashes to ``sha256``."""
        target = self.path_for(sha256, suffix)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, suffix=".part")
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            shutil.copyfile(source, tmp)
            actual = sha256_of(tmp)
            if actual != sha256:
                raise InputError(str(source), f"has sha256 {actual}, expected {sha256}")
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
        return target

    def set_aside(self, path: Path, sha256: str, suffix: str = DEFAULT_SUFFIX) -> Path:
        """Move a store copy that no longer hashes to ``sha256`` to ``<root>/corrupt/<sha256><suffix>.<UTC
        time>``. It is kept, not deleted: it may be the only copy of a file added by hand, and its bytes
        tell what damaged it."""
        folder = self.root / "corrupt"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        target = folder / f"{sha256}{suffix}.{stamp}"
        n = 0
        while target.exists():  # the same file damaged twice within a second
            n += 1
            target = folder / f"{sha256}{suffix}.{stamp}.{n}"
        os.replace(path, target)
        return target


def _ignore(_message: str) -> None:
    pass


def resolve(
    entry: Registered,
    store: Store,
    mirror: Path | None,
    offline: bool = False,
    say: Callable[[str], None] = _ignore,
) -> Path:
    """A verified local path holding ``entry``'s bytes, fetching them into the store if needed.

    ``say`` hears a warning for a store copy that was damaged and set aside."""
    problems: list[str] = []
    suffix = suffix_for(entry.file_name)
    cached = store.path_for(entry.file_sha256, suffix)
    if cached.is_symlink() or cached.exists():
        damage = _damage(cached, entry)
        if damage is None:
            return _checked_size(entry, cached)
        aside = store.set_aside(cached, entry.file_sha256, suffix)
        problem = f"store copy {damage}: moved aside to {aside}"
        say(f"warning: {entry.short}: {problem}")
        problems.append(problem)

    if mirror is not None and entry.mirror_path:
        candidate = mirror / entry.mirror_path
        if not candidate.resolve().is_relative_to(mirror.resolve()):
            # a registry row, or a link in the mirror, must not fetch a file from elsewhere
            problems.append(f"mirror path {entry.mirror_path} leads out of the mirror folder {mirror}")
        elif candidate.exists():
            try:
                stored = store.put_file(candidate, entry.file_sha256, suffix)
            except InputError as exc:
                problems.append(f"mirror copy {candidate} {exc.problem}")
            else:
                return _checked_size(entry, stored)
        else:
            problems.append(f"not in mirror folder {mirror}")
    elif mirror is None or not mirror.exists():
        problems.append("no mirror folder")

    if entry.url and not offline:
        try:
            path = _download(entry, store)
        except Exception as exc:  # pooch and requests raise many types; all mean "not fetched"
            problems.append(f"download from {entry.url} failed ({type(exc).__name__}: {exc})")
        else:
            return _checked_size(entry, path)
    elif not entry.url:
        problems.append("no URL registered")
    else:
        problems.append("downloads disabled (ICE287G_OFFLINE)")

    raise InputError(entry.short, "cannot be found anywhere: " + "; ".join(problems))


def _damage(path: Path, entry: Registered) -> str | None:
    """What is wrong with a store copy, or None when it is a plain file with the entry's sha256.
    Its kind is looked at first: a link (to /dev/zero, say) or a device is never read."""
    if not stat.S_ISREG(path.lstat().st_mode):
        return "is no plain file (a link or a device)"
    actual = sha256_of(path)
    return None if actual == entry.file_sha256 else f"had sha256 {actual}"


def _checked_size(entry: Registered, path: Path) -> Path:
    """``path`` (whose sha256 matched) when its size is the registered one: a row whose ``bytes``
    is wrong was edited by hand, and publishes a wrong size."""
    size = path.stat().st_size
    if size != int(entry.bytes):
        raise InputError(
            entry.short, f"registered with bytes {entry.bytes}, but the file with this sha256 has {size}: fix the row"
        )
    return path


def _download(entry: Registered, store: Store) -> Path:
    target = store.path_for(entry.file_sha256, suffix_for(entry.file_name))
    target.parent.mkdir(parents=True, exist_ok=True)
    fetcher = pooch.create(
        path=target.parent,
        base_url="",
        registry={target.name: f"sha256:{entry.file_sha256}"},
        urls={target.name: entry.url},
        retry_if_failed=2,
        allow_updates=False,
    )
    return Path(fetcher.fetch(target.name, progressbar=False))
