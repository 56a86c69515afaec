"""Know when a build would only repeat the last one: a digest of everything a build reads, and a
record of what the last successful build left, checked byte for byte before it is reused.

A build's output is a function of its inputs: the registry and reference registry, the models,
macros, seeds, expectations and sources folder, the project files, this package's code, the
installed libraries, and the committed release it compares against (its version and row counts).
When the digest of all of them equals the one recorded by the last build, and every file that
build published is still as it wrote it, a new build would write the same bytes; the build then
says so and reuses them instead of running dbt, validation and packaging again.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from pathlib import Path

import ice287g
from ice287g.settings import Settings
from ice287g.util.csvfile import write_atomically
from ice287g.util.hashing import sha256_of

RECORD = "last-build.json"
# Bump when the record's shape changes, so that an older record is never misread.
RECORD_VERSION = 1
PROJECT_FOLDERS = ("models", "macros", "seeds", "expectations", "sources", "tests/dbt")
PROJECT_FILES = ("dbt_project.yml", "profiles.yml")
RELEASE_FILES = ("datapackage.json", "releases.csv", "CHANGELOG.md")
RELEASE_FOLDERS = ("data", "docs")


def _files(folder: Path) -> list[Path]:
    # __pycache__ and editor droppings are not inputs; byte-compiled files follow their sources
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".pyc")
    )


def _digest(named_files: list[tuple[str, Path]], extra: list[str]) -> str:
    digest = hashlib.sha256()
    for name, path in named_files:
        digest.update(f"{name}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest() if path.exists() else b"absent")
    for line in extra:
        digest.update(f"{line}\n".encode())
    return digest.hexdigest()


def release_digest(settings: Settings) -> str:
    """The committed release as a build sees it: which version it holds, its rows and its history."""
    release = settings.release
    files = [(name, release / name) for name in RELEASE_FILES]
    for folder in RELEASE_FOLDERS:
        if (release / folder).is_dir():
            files += [(p.relative_to(release).as_posix(), p) for p in _files(release / folder)]
    return _digest(files, [])


def input_digest(settings: Settings) -> str:
    """One digest of everything a build reads (see the module docstring); changes when any of it does."""
    root = settings.root
    files = [("registry", settings.registry), ("reference registry", settings.reference_registry)]
    files += [(name, root / name) for name in PROJECT_FILES]
    for folder in PROJECT_FOLDERS:
        if (root / folder).is_dir():
            files += [(p.relative_to(root).as_posix(), p) for p in _files(root / folder)]
    code = Path(ice287g.__file__).parent
    files += [(f"code/{p.relative_to(code).as_posix()}", p) for p in _files(code)]
    # a library's new version may write other bytes (CSV quoting, Parquet metadata, chart SVG)
    libraries = sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions())
    places = [f"dist={settings.dist.resolve()}", f"build={settings.build_dir.resolve()}"]
    return _digest(files, [*libraries, *places, f"release={release_digest(settings)}"])


def output_files(settings: Settings, version: str) -> list[Path]:
    """The files a build leaves that a reused build stands on: the published version, its zip,
    the validation report's summary and the review files (the database is checked apart)."""
    folder = settings.dist / version
    zip_name = f"{ice287g.PACKAGE_NAME}-{version}.zip"
    review = settings.build_dir / "review"
    return [
        *_files(folder),
        settings.dist / zip_name,
        settings.dist / f"{zip_name}.sha256",
        settings.build_dir / "validation" / "validation.json",
        *(_files(review) if review.is_dir() else []),
    ]


def _sums(paths: list[Path]) -> dict[str, str]:
    return {str(p): sha256_of(p) for p in paths}


def record(settings: Settings, digest: str, version: str, summary: dict) -> None:
    """Remember a successful build: its input digest, version, what it reported, and the checksum
    of every output it left (the database by size and modification time: it is 80 MB)."""
    database = settings.database.stat()
    payload = {
        "record_version": RECORD_VERSION,
        "input_digest": digest,
        "version": version,
        "summary": summary,
        "outputs": _sums(output_files(settings, version)),
        "database": [database.st_size, database.st_mtime_ns],
        "release_written": "",
    }
    _save(settings, payload)


def reusable(settings: Settings, digest: str) -> dict | None:
    """The last build's record if a build with inputs ``digest`` would repeat it byte for byte:
    same inputs, and every output it left still present and unchanged; else None."""
    payload = _load(settings)
    if not payload or payload.get("record_version") != RECORD_VERSION or payload.get("input_digest") != digest:
        return None
    try:
        database = settings.database.stat()
        if [database.st_size, database.st_mtime_ns] != payload["database"]:
            return None
        current = output_files(settings, payload["version"])
        if sorted(map(str, current)) != sorted(payload["outputs"]) or _sums(current) != payload["outputs"]:
            return None
    except OSError:
        return None
    return payload


def _save(settings: Settings, payload: dict) -> None:
    write_atomically(settings.build_dir / RECORD, json.dumps(payload, indent=1, sort_keys=True).encode())


def _load(settings: Settings) -> dict | None:
    try:
        return json.loads((settings.build_dir / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def note_release_written(settings: Settings, version: str) -> None:
    """After the committed release was written from the recorded build of ``version``.

    The release is one of the build's inputs, and writing it changed it: a build of the same
    inputs against the release as it now is publishes nothing new (the version is already out,
    with these bytes: the tests' repeated builds show it), so the record takes the new digest and
    the next such build is reused, release write included."""
    payload = _load(settings)
    if not payload or payload.get("version") != version:
        return
    payload["input_digest"] = input_digest(settings)
    payload["release_written"] = release_digest(settings)
    _save(settings, payload)


def release_is_written(settings: Settings) -> bool:
    """Whether the committed release is exactly what was written from the recorded build."""
    payload = _load(settings)
    return bool(payload and payload.get("release_written")) and payload["release_written"] == release_digest(settings)
