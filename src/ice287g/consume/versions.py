"""Version strings, in one place: ``<year>.<month>.<day>[.<method release>[.<revision>]]``.

The date is the newest publication's; the method release is ``METHOD_RELEASE`` when it was built;
a revision is a backfill (older snapshots registered after the date was released). Only the
standard library, so the reader (``ice287g.consume.loader``) uses it as the builder does.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from .. import METHOD_RELEASE
from ..errors import InputError

VERSION_PATTERN = re.compile(r"^\d{4}\.\d{1,2}\.\d{1,2}(\.\d+){0,2}$")


def version_for(newest_published: dt.date, release: int = METHOD_RELEASE, revision: int = 0) -> str:
    """``<year>.<month>.<day>`` of the newest publication, then ``.<release>`` for method releases,
    then ``.<revision>`` for a backfill (the method release is then written even when it is 0, so
    the parts keep their places)."""
    version = f"{newest_published.year}.{newest_published.month}.{newest_published.day}"
    if revision:
        return f"{version}.{release}.{revision}"
    return f"{version}.{release}" if release else version


def version_key(version: str) -> tuple[int, ...]:
    """(year, month, day, method release, revision): versions sort by it."""
    parts = [int(p) for p in version.split(".")]
    return tuple(parts + [0] * (5 - len(parts)))


def base_version(version: str) -> str:
    """The version without its backfill revision: the date and method release it belongs to."""
    year, month, day, release, _ = version_key(version)
    return version_for(dt.date(year, month, day), release)


def method_release(version: str) -> int:
    return version_key(version)[3]


def version_date(version: str) -> dt.date:
    """The date part of a version: ``2026.3.27.1`` -> 2026-03-27 (the newest publication)."""
    if not VERSION_PATTERN.match(version):
        raise InputError(version, "not a version of the form <year>.<month>.<day>[.<release>[.<revision>]]")
    year, month, day = version_key(version)[:3]
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise InputError(version, f"not a version: {exc}") from exc


def list_versions(folder: Path) -> list[str]:
    """The version folders in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    return sorted((p.name for p in folder.iterdir() if p.is_dir() and VERSION_PATTERN.match(p.name)), key=version_key)
