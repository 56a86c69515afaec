"""Cut a release in the checkout: acquire, build, and commit and tag what changed (never push).

``ice287g release`` (what ``make release`` and the scheduled release workflow run):

1. unless offline, register the lists ICE's page links to that are new (``acquire``);
2. build, which writes the committed release (``data/``, ``datapackage.json``, ``releases.csv``,
   ``CHANGELOG.md``, the page in ``docs/``, ``CITATION.cff``, ``.zenodo.json`` and the README's
   generated parts);
3. if any release path changed: commit exactly the release paths as "Release ice287g <version>"
   and tag ``v<version>`` (a convenience: a clone has no tags, and every release is found from
   the commit history alone, see ``ice287g.consume.history``). A tag that already exists stops the
   release before anything is committed.

Pushing, the GitHub release and the PyPI upload are the workflow's job
(``.github/workflows/release.yml``). The repository URL has one home, ``[project.urls]`` in
``pyproject.toml``; ``repository_url()`` reads it from there.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import re
import subprocess
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ice287g import PACKAGE_NAME
from ice287g.errors import InputError
from ice287g.publish.committed import changelog_sections, committed_version
from ice287g.util.csvfile import write_atomically

# Every path a release may change, relative to the checkout root: only these are committed.
RELEASE_PATHS = (
    "data",
    "datapackage.json",
    "releases.csv",
    "CHANGELOG.md",
    "CITATION.cff",
    ".zenodo.json",
    "README.md",
    "sources",
    "docs",
)

TITLE = "ice287g: the U.S. 287(g) program, from every archived ICE list"
AUTHOR = "ice287g maintainers"
ABSTRACT = (
    "The open, reproducible data package of the U.S. 287(g) program: the agreements under which "
    "U.S. Immigration and Customs Enforcement (ICE) deputizes state and local police. ICE publishes "
    "only the current lists of participating and pending agencies and overwrites them; this package "
    "rebuilds their whole history from every archived copy, as clean, versioned, validated tables "
    "(publications, agencies, agreements, agreement periods, applications, listings, counts) in a "
    "Frictionless data package. The data is dedicated to the public domain (CC0 1.0)."
)
KEYWORDS = (
    "287(g)",
    "immigration enforcement",
    "ICE",
    "law enforcement agencies",
    "open data",
    "data package",
    "frictionless",
)


def _pyproject(root: Path | None) -> Path | None:
    if root is not None:
        return root / "pyproject.toml"
    from ice287g.settings import project_root

    candidate = project_root() / "pyproject.toml"
    return candidate if candidate.exists() else None


def project_urls(root: Path | None = None) -> dict[str, str]:
    """``[project.urls]`` of the checkout's pyproject.toml, else of the installed distribution."""
    pyproject = _pyproject(root)
    if pyproject is not None and pyproject.exists():
        project = tomllib.loads(pyproject.read_text()).get("project", {})
        if root is not None or project.get("name") == PACKAGE_NAME:  # not some other project's
            return dict(project.get("urls", {}))
    urls = {}
    for line in importlib.metadata.metadata(PACKAGE_NAME).get_all("Project-URL") or []:
        label, _, url = line.partition(",")
        urls[label.strip()] = url.strip()
    return urls


def repository_url(root: Path | None = None) -> str:
    """The repository's URL: ``Repository`` (else ``Homepage``) of ``[project.urls]``."""
    urls = project_urls(root)
    for label in ("Repository", "Homepage"):
        if urls.get(label):
            return urls[label].rstrip("/")
    raise InputError(str(_pyproject(root) or "pyproject.toml"), "[project.urls] names no Repository or Homepage")


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def citation_cff(version: str, date: dt.date, repository: str) -> str:
    lines = [
        "# Written by `ice287g release` (src/ice287g/publish/release.py) for each release: edit it there.",
        "cff-version: 1.2.0",
        'message: "If you use this data, please cite it as below."',
        "type: dataset",
        f"title: {_quoted(TITLE)}",
        f"abstract: {_quoted(ABSTRACT)}",
        "authors:",
        f"  - name: {_quoted(AUTHOR)}",
        "license: CC0-1.0",
        f"repository-code: {_quoted(repository)}",
        f"version: {_quoted(version)}",
        f"date-released: {_quoted(date.isoformat())}",
        "keywords:",
        *(f"  - {_quoted(k)}" for k in KEYWORDS),
    ]
    return "\n".join(lines) + "\n"


def zenodo_json(version: str, date: dt.date, repository: str) -> str:
    record = {
        "title": TITLE,
        "upload_type": "dataset",
        "description": ABSTRACT,
        "creators": [{"name": AUTHOR}],
        "access_right": "open",
        "license": "cc-zero",
        "keywords": list(KEYWORDS),
        "related_identifiers": [{"identifier": repository, "relation": "isSupplementTo", "scheme": "url"}],
        "version": version,
        "publication_date": date.isoformat(),
    }
    return json.dumps(record, indent=2, ensure_ascii=False) + "\n"


def write_citation(folder: Path, version: str, date: dt.date | str, repository: str) -> list[Path]:
    """(Re)write CITATION.cff and .zenodo.json in ``folder`` for ``version`` released on ``date``;
    the same arguments always give the same bytes. Returns the files whose contents changed."""
    date = dt.date.fromisoformat(date) if isinstance(date, str) else date
    changed = []
    for name, text in (
        ("CITATION.cff", citation_cff(version, date, repository)),
        (".zenodo.json", zenodo_json(version, date, repository)),
    ):
        target = folder / name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            write_atomically(target, text.encode("utf-8"))
            changed.append(target)
    return changed


def changelog_section(changelog: str, version: str) -> str | None:
    """The section of CHANGELOG.md (from its ``## `` heading to the next) for exactly ``version``."""
    exact = re.compile(rf"(?<![\w.]){re.escape(version)}(?!\.?\w)")
    found = (body for title, body in changelog_sections(changelog).items() if exact.search(title))
    return next((body.strip() + "\n" for body in found), None)


def release_notes(root: Path, version: str) -> str:
    """The GitHub release's notes: the version's CHANGELOG.md section."""
    changelog = root / "CHANGELOG.md"
    section = changelog_section(changelog.read_text(), version) if changelog.exists() else None
    return section or f"## {PACKAGE_NAME} {version}\n"


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise InputError(str(root), f"`git {' '.join(args)}` failed: {(result.stderr or result.stdout).strip()}")
    return result.stdout


def changed_paths(root: Path, paths: tuple[str, ...] = RELEASE_PATHS) -> list[str]:
    """The files under ``paths`` with changes in the working tree (``git status --porcelain``)."""
    out = _git(root, "status", "--porcelain", "-z", "--untracked-files=all", "--", *paths)
    files, entries = set(), iter(out.split("\0"))
    for entry in entries:
        if len(entry) > 3:
            files.add(entry[3:])
            if entry[0] in "RC":  # a rename or copy is followed by its source path
                files.add(next(entries, ""))
    return sorted(f for f in files if f)


def tag_exists(root: Path, tag: str) -> bool:
    result = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "-q", "--verify", f"refs/tags/{tag}"],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def current_version(root: Path) -> str:
    """The version of the release committed at ``root``; InputError when there is none."""
    descriptor = root / "datapackage.json"
    try:
        version = committed_version(root)
    except (OSError, ValueError) as exc:
        raise InputError(str(descriptor), f"no version to release ({exc})") from exc
    if not isinstance(version, str) or not version:
        raise InputError(str(descriptor), "no version to release")
    return version


@dataclass
class ReleaseResult:
    version: str | None = None
    tag: str | None = None
    commit: str | None = None
    notes: Path | None = None
    files: list[str] = field(default_factory=list)

    @property
    def released(self) -> bool:
        return self.tag is not None


def release(
    root: Path,
    build_step: Callable[[], object],
    acquire_step: Callable[[], object] | None = None,
    notes_dir: Path | None = None,
    say: Callable[[str], None] = print,
) -> ReleaseResult:
    """Acquire (if ``acquire_step``), build, then commit and tag a release if anything changed.

    ``build_step`` must leave the committed release (datapackage.json and the rest) in ``root``;
    ``notes_dir`` receives ``ice287g-<version>.notes.md``, the release's CHANGELOG section.
    """
    if not (root / ".git").exists():
        _git(root, "rev-parse", "--git-dir")  # a worktree or submodule has a .git file: ask git
    if acquire_step is not None:
        say("acquiring new lists from ICE's page")
        acquire_step()
    say("building")
    build_step()

    if not changed_paths(root):
        return _finish_interrupted(root, notes_dir, say) or _nothing(say)
    version = current_version(root)
    tag = f"v{version}"
    if tag_exists(root, tag):
        raise InputError(
            tag,
            f"the tag already exists but the release paths changed: {PACKAGE_NAME} {version} is already released "
            "(a change of method that changes the data bumps METHOD_RELEASE)",
        )
    paths = [p for p in RELEASE_PATHS if changed_paths(root, (p,))]
    files = changed_paths(root)
    _git(root, "add", "--all", "--", *paths)
    # with paths, `git commit` takes exactly them, whatever else happens to be staged
    _git(root, "commit", "--quiet", "-m", release_subject(version), "--", *paths)
    result = _tag(root, version, notes_dir, files)
    say(f"committed {result.commit[:12]} ({len(files)} files) and tagged {result.tag}: push both to publish")
    return result


def release_subject(version: str) -> str:
    """The subject line of a release's commit."""
    return f"Release {PACKAGE_NAME} {version}"


def _nothing(say: Callable[[str], None]) -> ReleaseResult:
    say("nothing changed: no release")
    return ReleaseResult()


def _tag(root: Path, version: str, notes_dir: Path | None, files: list[str]) -> ReleaseResult:
    """Tag HEAD, the commit of release ``version``, and write its notes into ``notes_dir``."""
    tag = f"v{version}"
    _git(root, "tag", "-a", tag, "-m", f"{PACKAGE_NAME} {version}")
    commit = _git(root, "rev-parse", "HEAD").strip()
    result = ReleaseResult(version, tag, commit, None, files)
    if notes_dir is not None:
        notes_dir.mkdir(parents=True, exist_ok=True)
        result.notes = notes_dir / f"{PACKAGE_NAME}-{version}.notes.md"
        write_atomically(result.notes, release_notes(root, version).encode("utf-8"))
    return result


def _finish_interrupted(root: Path, notes_dir: Path | None, say: Callable[[str], None]) -> ReleaseResult | None:
    """Tag a release whose commit was made by a run that stopped before its tag: HEAD is the
    release commit of the committed version, and no tag names it. None when there is none."""
    try:
        version = current_version(root)
    except InputError:  # no release in the checkout: nothing to finish
        return None
    if _git(root, "log", "-1", "--format=%s").strip() != release_subject(version) or tag_exists(root, f"v{version}"):
        return None
    files = _git(root, "diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD").split()
    result = _tag(root, version, notes_dir, files)
    say(f"finished the release of {PACKAGE_NAME} {version}, interrupted after its commit: tagged {result.tag}")
    return result
