"""The committed release: ``data/``, ``datapackage.json``, ``releases.csv`` and ``CHANGELOG.md``.

The newest release lives in the repository itself (the release folder, by default the checkout
root), so that a clone needs no build to use the data. ``releases.csv`` has one line per release
(its version, the newest participating and pending publication dates, the zip's sha256 and
each table's rows and sha256); a version in it can never be rebuilt with other bytes.
``CHANGELOG.md`` has one section per release, newest first, each comparing the release with the
one committed before it, so it is right on any clone.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import os
import re
import shutil
from pathlib import Path

from ice287g import PACKAGE_NAME
from ice287g.consume.loader import RELEASE_JOURNAL
from ice287g.consume.versions import base_version, method_release, version_for, version_key
from ice287g.errors import InputError
from ice287g.publish.changes import compare, render
from ice287g.util.csvfile import write_atomically
from ice287g.util.hashing import sha256_of

INDEX = "releases.csv"
CHANGELOG = "CHANGELOG.md"
CHANGELOG_HEAD = "# Changelog\n\nOne section per release of the ice287g data package, newest first.\n\n"
SECTION = re.compile(r"^## ", re.M)


def committed_version(release: Path) -> str | None:
    """The version of the release in ``release``, or None when there is none."""
    descriptor = release / "datapackage.json"
    if not descriptor.exists() or not (release / "data").is_dir():
        return None
    return json.loads(descriptor.read_text(encoding="utf-8")).get("version")


def index_rows(release: Path) -> list[dict[str, str]]:
    path = release / INDEX
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def released_rows(release: Path) -> dict[str, int]:
    """Rows of each table in the newest committed release (empty when there is none)."""
    rows = index_rows(release)
    if not rows:
        return {}
    newest = rows[-1]
    return {key.removesuffix("_rows"): int(value) for key, value in newest.items() if key.endswith("_rows") and value}


def index_entry(folder: Path, zip_sha256: str) -> dict[str, str]:
    """The index line of the version package in ``folder`` (a dist/<version> folder)."""
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    entry = {"version": package["version"]}
    publications = _read_csv(folder / "data" / "publications.csv")
    for list_name in ("participating", "pending"):
        dates = [row["published_date"] for row in publications if row["list"] == list_name]
        entry[f"newest_{list_name}_date"] = max(dates) if dates else ""
    entry["zip_sha256"] = zip_sha256
    for resource in package["resources"]:
        path = folder / resource["path"]
        entry[f"{resource['name']}_rows"] = str(len(_read_csv(path)))
        entry[f"{resource['name']}_sha256"] = resource["hash"].removeprefix("sha256:")
    return entry


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def check_index(release: Path, entry: dict[str, str]) -> bool:
    """True when the index already holds ``entry``'s version with the same bytes; False when it
    does not hold the version; an error when it holds it with other bytes."""
    for row in index_rows(release):
        if row["version"] != entry["version"]:
            continue
        # an empty value (the zip's, before the zip is written) is not compared
        differ = sorted(
            k for k in set(row) | set(entry) if k.endswith("sha256") and entry.get(k) and row.get(k) != entry.get(k)
        )
        if differ:
            raise InputError(
                str(release / INDEX),
                f"version {entry['version']} is released and this build differs in {differ[:4]}: a released "
                "version never changes. Same snapshots, other bytes: the method changed; bump METHOD_RELEASE "
                "in src/ice287g/__init__.py and say why in sources/method-releases/<n>.md.",
            )
        return True
    return False


def table_entry(folder: Path) -> dict[str, str]:
    """``<table>_rows`` and ``<table>_sha256`` of every ``data/<table>.csv`` in ``folder``: the
    columns of an index line that the version's number and descriptor do not enter into."""
    entry = {}
    for path in sorted((folder / "data").glob("*.csv")):
        entry[f"{path.stem}_rows"] = str(len(_read_csv(path)))
        entry[f"{path.stem}_sha256"] = sha256_of(path)
    return entry


def release_version(release: Path, base: str, staged: Path) -> str:
    """The version of the package whose tables are in ``staged`` (``data/<table>.csv``), when its
    newest publication and method make the version ``base`` (see ``versions.version_for``).

    Decided from ``releases.csv`` and the tables alone, so a fresh clone rebuilds the same version:
    - the tables of a released version of ``base`` (it, or one of its backfill revisions): that version;
    - ``base`` not released: ``base``;
    - more snapshots than the newest release of ``base``, none of its snapshots missing: a backfill
      (older snapshots registered after the date was released), the next revision ``<base>.<n>``;
    - the same snapshots with other bytes: the method changed, an error saying to bump
      METHOD_RELEASE; snapshots of the release missing: an error naming them.
    """
    family = [row for row in index_rows(release) if base_version(row["version"]) == base]
    if not family:
        return base
    tables = table_entry(staged)
    hashes = {k: v for k, v in tables.items() if k.endswith("_sha256")}
    for row in family:
        if all(row.get(k) == v for k, v in hashes.items()):
            return row["version"]
    newest = max(family, key=lambda row: version_key(row["version"]))
    released_rows, built_rows = int(newest.get("snapshots_rows") or 0), int(tables.get("snapshots_rows", 0))
    missing = _missing_snapshots(release, newest["version"], staged)
    if missing or built_rows < released_rows:
        shown = ", ".join(sorted(missing)[:5]) or f"{released_rows - built_rows} of them"
        raise InputError(
            str(release / INDEX),
            f"version {newest['version']} was released with snapshots this build does not have ({shown}): "
            "register them again; a released snapshot is never dropped without a new METHOD_RELEASE "
            "(src/ice287g/__init__.py) and a note in sources/method-releases/<n>.md saying why",
        )
    if built_rows > released_rows:
        year, month, day, method, revision = version_key(newest["version"])
        return version_for(dt.date(year, month, day), method, revision + 1)
    differ = sorted(k.removesuffix("_sha256") for k, v in hashes.items() if newest.get(k) != v)
    raise InputError(
        str(release / INDEX),
        f"version {newest['version']} is released with the same snapshots, and this build differs in "
        f"{differ[:4]}: same snapshots, other bytes: the method changed. Bump METHOD_RELEASE in "
        "src/ice287g/__init__.py and say why in sources/method-releases/<n>.md.",
    )


def _missing_snapshots(release: Path, version: str, staged: Path) -> set[str]:
    """The snapshots (file_sha256) of the committed release that the staged package lacks, when the
    committed release is ``version``; empty when it is another (only counts can be compared then)."""
    if committed_version(release) != version or not (release / "data" / "snapshots.csv").exists():
        return set()
    released = {row["file_sha256"] for row in _read_csv(release / "data" / "snapshots.csv")}
    return released - {row["file_sha256"] for row in _read_csv(staged / "data" / "snapshots.csv")}


def method_notes(root: Path, version: str, since: str | None) -> str:
    """The reviewed notes on what changed in the method (``sources/method-releases/<n>.md``) when
    ``version`` is the first release of its method release after ``since``; else empty."""
    if since is None or method_release(since) == method_release(version):
        return ""
    path = root / "sources" / "method-releases" / f"{method_release(version)}.md"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def changelog_entry(release: Path, staged: Path, version: str, root: Path) -> str:
    """This version's changelog section: the one already in CHANGELOG.md when the version is
    released (a rebuild writes the same bytes), else the comparison with the committed release,
    headed by the method's notes when the method changed since it."""
    existing = _sections(release).get(version)
    if existing is not None:
        return existing
    since = committed_version(release)
    notes = method_notes(root, version, since)
    return render(compare(release if since else None, staged), f"{PACKAGE_NAME} {version}", since, notes)


def _sections(release: Path) -> dict[str, str]:
    path = release / CHANGELOG
    return changelog_sections(path.read_text(encoding="utf-8")) if path.exists() else {}


def changelog_sections(text: str) -> dict[str, str]:
    """The sections of a CHANGELOG.md, each from its ``## `` heading to the next, by title (the
    heading less ``## <package name> ``: the version and what follows it)."""
    starts = [m.start() for m in SECTION.finditer(text)] + [len(text)]
    sections = {}
    for start, end in itertools.pairwise(starts):
        body = text[start:end].rstrip("\n") + "\n"
        title = body.splitlines()[0].removeprefix("## ").strip()
        sections[title.removeprefix(f"{PACKAGE_NAME} ")] = body
    return sections


def write_release(release: Path, folder: Path, zip_sha256: str) -> list[str]:
    """Make the version package in ``folder`` the committed release in ``release``: its CSVs in
    ``data/``, its descriptor, its index line and its changelog section. Every file is replaced
    atomically; returns the paths that changed."""
    entry = index_entry(folder, zip_sha256)
    version = entry["version"]
    changed = []

    data = release / "data"
    data.mkdir(parents=True, exist_ok=True)
    wanted = {p.name for p in (folder / "data").glob("*.csv")}
    for name in sorted(wanted):
        source, target = folder / "data" / name, data / name
        if not target.exists() or sha256_of(target) != sha256_of(source):
            write_atomically(target, source.read_bytes())
            changed.append(f"data/{name}")
    for stale in sorted(p for p in data.glob("*.csv") if p.name not in wanted):
        stale.unlink()
        changed.append(f"data/{stale.name}")

    for name in ("datapackage.json",):
        text = (folder / name).read_bytes()
        target = release / name
        if not target.exists() or target.read_bytes() != text:
            write_atomically(target, text)
            changed.append(name)

    if not check_index(release, entry):
        rows = [r for r in index_rows(release) if r["version"] != version] + [entry]
        fields = list(entry)
        for row in rows:
            fields += [k for k in row if k not in fields]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n", restval="")
        writer.writeheader()
        writer.writerows(rows)
        write_atomically(release / INDEX, out.getvalue().encode())
        changed.append(INDEX)

    sections = _sections(release)
    if version not in sections:
        section = (folder / CHANGELOG).read_text(encoding="utf-8").removeprefix("# Changelog\n\n")
        body = "".join(sections[v] + "\n" for v in sections)
        write_atomically(release / CHANGELOG, (CHANGELOG_HEAD + section + "\n" + body).rstrip("\n").encode() + b"\n")
        changed.append(CHANGELOG)
    return changed


# Everything the committed release is made of, relative to its folder: written as one unit.
RELEASE_FILES = ("datapackage.json", INDEX, CHANGELOG, "CITATION.cff", ".zenodo.json", "README.md")
RELEASE_FOLDERS = ("data", "docs")
STAGE = ".release-stage"


def _release_files(folder: Path) -> dict[str, Path]:
    """The release's files in ``folder`` by their path relative to it."""
    files = {name: folder / name for name in RELEASE_FILES if (folder / name).is_file()}
    for sub in RELEASE_FOLDERS:
        if (folder / sub).is_dir():
            files |= {p.relative_to(folder).as_posix(): p for p in sorted((folder / sub).rglob("*")) if p.is_file()}
    return files


def recover(release: Path) -> str | None:
    """Finish or undo a replacement of the committed release that a kill or a full disk stopped:
    with a journal, every staged file is complete, so the replacement is rolled forward; without
    one, nothing of the release was touched, and the staged files are dropped. Says which, or
    None when there was nothing to recover."""
    journal, stage = release / RELEASE_JOURNAL, release / STAGE
    if journal.is_file():
        plan = json.loads(journal.read_text(encoding="utf-8"))
        _apply(release, stage, plan)
        journal.unlink()
        shutil.rmtree(stage, ignore_errors=True)
        return f"finished writing the release {plan['version']} that an interrupted command had begun"
    if stage.exists():
        shutil.rmtree(stage, ignore_errors=True)
        return "dropped the staged files of a release write that was interrupted before it began"
    return None


def _apply(release: Path, stage: Path, plan: dict) -> None:
    for name in plan["replace"]:
        staged = stage / name
        if staged.exists():  # else it was moved into place before the interruption
            (release / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, release / name)
    for name in plan["delete"]:
        (release / name).unlink(missing_ok=True)


class ReleaseTransaction:
    """Write the committed release as one unit: a copy of it is staged (``folder``) for the
    writers to change, then the files that differ replace the release's in one roll: a journal
    (``RELEASE_JOURNAL``, written atomically) names them before the first is moved, and ``recover``
    rolls a stopped roll forward. ``changed`` lists the paths that changed."""

    def __init__(self, release: Path, version: str):
        self.release = release
        self.version = version
        self.folder = release / STAGE
        self.changed: list[str] = []

    def __enter__(self) -> ReleaseTransaction:
        recover(self.release)
        self.folder.mkdir(parents=True)
        for name, path in _release_files(self.release).items():
            (self.folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, self.folder / name)
        return self

    def __exit__(self, kind, *_exc) -> None:
        if kind is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            return
        before, after = _release_files(self.release), _release_files(self.folder)
        replace = sorted(n for n in after if n not in before or sha256_of(after[n]) != sha256_of(before[n]))
        delete = sorted(n for n in before if n not in after)
        plan = {"version": self.version, "replace": replace, "delete": delete}
        if replace or delete:
            write_atomically(self.release / RELEASE_JOURNAL, json.dumps(plan, indent=1).encode())
            _apply(self.release, self.folder, plan)
            (self.release / RELEASE_JOURNAL).unlink()
        shutil.rmtree(self.folder, ignore_errors=True)
        self.changed = sorted(replace + delete)
