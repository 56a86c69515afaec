"""Every release ever committed, read back from the repository's own history: no tag, no network.

A release commit holds the release's ``datapackage.json`` and ``data/``, and ``releases.csv``
records each release's table checksums on a line that never changes afterwards. A version is
found as the first commit whose ``releases.csv`` gained the version's line and whose descriptor
is that version (a tag ``v<version>``, where one exists, is only a shortcut to the same commit),
and its files are checked against the line the checkout's ``releases.csv`` holds for it.

Only the standard library: ``ice287g.consume.loader`` uses this, and a reader needs no builder's libraries.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
from pathlib import Path

from ..errors import InputError
from ..util.hashing import sha256_bytes

INDEX = "releases.csv"
DESCRIPTOR = "datapackage.json"


def _git(root: Path, *args: str, text: bool = True) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=text, check=False)
    except FileNotFoundError:
        raise InputError(str(root), "git is not installed: a version is read from the repository's history") from None


def recorded_line(root: Path, version: str) -> dict[str, str]:
    """The line of ``version`` in the checkout's ``releases.csv``; InputError naming the versions
    it has when there is none."""
    path = root / INDEX
    if not path.is_file():
        raise InputError(str(path), f"no {INDEX} here, so no released version {version} to find")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row.get("version") == version:
            return row
    have = ", ".join(row.get("version", "?") for row in rows) or "none"
    raise InputError(version, f"no such release in {path} (released: {have})")


def _show(root: Path, commit: str, path: str) -> bytes | None:
    shown = _git(root, "show", f"{commit}:{path}", text=False)
    return shown.stdout if shown.returncode == 0 else None


def _version_at(root: Path, commit: str) -> str | None:
    raw = _show(root, commit, DESCRIPTOR)
    try:
        return json.loads(raw).get("version") if raw else None
    except (ValueError, AttributeError):
        return None


def release_commit(root: Path, version: str) -> str:
    """The commit that holds release ``version`` (see the module docstring)."""
    if _git(root, "rev-parse", "--git-dir").returncode != 0:
        raise InputError(str(root), f"not a git repository: release {version} is read from its history")
    tagged = _git(root, "rev-parse", "--verify", "--quiet", f"refs/tags/v{version}^{{commit}}").stdout.strip()
    if tagged and _version_at(root, tagged) == version:
        return tagged
    pattern = f"^{re.escape(version)},"
    log = _git(root, "log", "--format=%H", "--reverse", "-G", pattern, "--", INDEX)
    for commit in log.stdout.split():
        if _version_at(root, commit) == version:
            return commit
    raise InputError(
        version,
        f"no commit of {root} holds release {version} ({INDEX} and {DESCRIPTOR} of that version): "
        "a shallow clone lacks the history; `git fetch --unshallow` brings it",
    )


def export(root: Path, version: str, target: Path) -> Path:
    """Write release ``version``'s ``datapackage.json`` and tables into the folder ``target``,
    each table checked against the checksum its ``releases.csv`` line records; returns ``target``."""
    line = recorded_line(root, version)
    commit = release_commit(root, version)
    raw = _show(root, commit, DESCRIPTOR)
    descriptor = json.loads(raw)
    target.mkdir(parents=True, exist_ok=True)
    (target / DESCRIPTOR).write_bytes(raw)
    for resource in descriptor.get("resources", []):
        name, path = resource.get("name", ""), resource.get("path", "")
        label = f"{commit[:12]}:{path} (release {version})"
        if not isinstance(path, str) or not re.fullmatch(r"data/[A-Za-z0-9_]+\.csv", path):
            raise InputError(label, f"resource path {path!r} is not a table of data/")
        data = _show(root, commit, path)
        if data is None:
            raise InputError(label, "is missing from the commit, but the release's descriptor lists it")
        expected = line.get(f"{name}_sha256", "")
        actual = _sha256(data)
        if expected and actual != expected:
            raise InputError(label, f"has sha256 {actual}, but {INDEX} records {expected} for the release")
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        (target / path).write_bytes(data)
    return target


def _sha256(data: bytes) -> str:
    return sha256_bytes(data)


def versions(root: Path) -> list[dict[str, str]]:
    """Every release of the checkout's ``releases.csv``, oldest first, with the commit that holds it
    and the sha256 of its ``datapackage.json`` (what ``ice287g.load(..., sha256=...)`` pins)."""
    path = root / INDEX
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    found = []
    for row in rows:
        commit = release_commit(root, row["version"])
        descriptor = _show(root, commit, DESCRIPTOR) or b""
        found.append({"version": row["version"], "commit": commit, "descriptor_sha256": _sha256(descriptor)})
    return found
