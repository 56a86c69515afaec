"""Where a release is, given as a folder, a zip, a version built in ``dist/``, or a version of the
repository's history: the folder that holds its ``datapackage.json`` and ``data/``."""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path

from ice287g.consume import history
from ice287g.consume.loader import MAX_MEMBER_BYTES, zip_package_prefix
from ice287g.consume.versions import VERSION_PATTERN
from ice287g.errors import InputError
from ice287g.util import inflate


def locate(version_or_path: str, root: Path, dist: Path, work: Path) -> Path:
    """A folder holding ``data/<table>.csv`` of a release: the given folder, a zip (extracted into
    ``work``), a version built in ``dist``, or a released version read back from git history and
    checked against ``releases.csv`` (``ice287g.consume.history``, exported into ``work``)."""
    path = Path(version_or_path)
    if path.is_dir() and (path / "datapackage.json").exists():
        return path
    if path.suffix == ".zip" and path.is_file():
        return _extract(path, work / path.stem)
    if (dist / version_or_path / "datapackage.json").exists():
        return dist / version_or_path
    if not VERSION_PATTERN.match(version_or_path):
        raise InputError(version_or_path, "not a release folder, a zip or a version (<year>.<month>.<day>[.<n>[.<n>]])")
    return history.export(root, version_or_path, work / version_or_path)


def _extract(path: Path, target: Path) -> Path:
    """The package folder of the zip at ``path`` (its shallowest datapackage.json), its members
    written under ``target``, all of them together within ``MAX_MEMBER_BYTES``: a zip bomb, or a
    member whose name would leave ``target``, is refused."""
    budget = MAX_MEMBER_BYTES
    try:
        with zipfile.ZipFile(path) as zf:
            prefix = zip_package_prefix(zf.namelist(), str(path))
            for info in zf.infolist():
                if info.is_dir() or not info.filename.startswith(prefix):
                    continue
                name = posixpath.normpath(info.filename)
                if name.startswith(("/", "..")) or ":" in name or "\\" in name:
                    raise InputError(str(path), f"member {info.filename!r} would leave the folder it is extracted to")
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                with open(target / name, "wb") as out:
                    for chunk in inflate.chunks(zf, info, budget, str(path)):
                        out.write(chunk)
                budget -= info.file_size
    except zipfile.BadZipFile as exc:
        raise InputError(str(path), f"not a zip file ({exc})") from exc
    return target / prefix
