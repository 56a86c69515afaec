"""One command at a time in a checkout: the lock that every command writing the registry, the
store, the build folder or the committed release holds (build, add, sources seed, acquire,
release).

Two such commands at once would share them: an ``add`` during a build's first step was recorded
as built and never published, and two ``add``s at once lost a registration.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from filelock import FileLock, Timeout

from ice287g.errors import InputError
from ice287g.settings import Settings

LOCK_FILE = ".lock"


def _record_holder(fd: int) -> None:
    # the PID of the command that holds the lock, for the message of one that finds it held
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)


def _holder(lock_file) -> str:
    try:
        pid = int(lock_file.read_text().strip())
    except (OSError, ValueError):
        return ""
    return f" (pid {pid})"


@contextmanager
def checkout_lock(settings: Settings) -> Iterator[None]:
    """Hold the checkout's lock, ``<build_dir>/.lock``, for as long as a command writes.

    A second command waits at most ``settings.lock_timeout`` seconds (default 0: a build takes
    minutes, and waiting in silence looks like a hang), then stops with the lock file and the PID
    holding it. Re-entrant in one process; the operating system releases it when the holder dies,
    even by SIGKILL. A lock file that is a symbolic link is refused: the holder writes its PID
    into the file, and would write it wherever the link points."""
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    path = settings.build_dir / LOCK_FILE
    if path.is_symlink():
        raise InputError(str(path), f"is a symbolic link (to {os.readlink(path)}), not the checkout's lock: remove it")
    lock = FileLock(path, is_singleton=True, on_acquired=_record_holder)
    try:
        lock.acquire(timeout=settings.lock_timeout)
    except Timeout:
        waited = f" (waited {settings.lock_timeout:g} s)" if settings.lock_timeout > 0 else ""
        raise InputError(
            str(path),
            f"another command (a build, add, acquire or release) is running in this checkout{_holder(path)}: "
            f"wait for it or stop it{waited}",
        ) from None
    try:
        yield
    finally:
        lock.release()
