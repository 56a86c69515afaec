"""The reference registry: public reference tables the build reads, registered by checksum.

Its one job is ``sources/references.csv``: one row per reference file (Census counties and
states, the FBI's law-enforcement employees, the us-atlas map and its licence), read and checked
here, seeded from the reference mirror's ``MANIFEST.csv``, resolved through the same store as the
raw snapshots (store, then mirror folder, then pinned URL, sha256 checked on every read). The
raw stage loads the CSV ones as ``raw_<name>`` tables (``ice287g.raw.reference_tables``). The
files themselves are never committed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path, PurePosixPath

from ice287g.errors import InputError
from ice287g.settings import Settings
from ice287g.sources.store import Store, resolve
from ice287g.util.csvfile import manifest_rows, read_rows, rows_text, write_atomically

# Short ids of the files the mirror holds; other files get their lower-case, snake_case stem.
KNOWN_NAMES = {
    "census-counties-2020.csv": "census_counties",
    "census-states.csv": "census_states",
    "fbi-law-enforcement-employees-2025.csv": "fbi_employees",
    "us-atlas-counties-10m.json": "us_atlas_counties",
    "us-atlas-LICENSE.txt": "us_atlas_license",
}

NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Reference:
    """One registered reference file: a row of ``sources/references.csv``.

    - ``name``: Short snake_case id of the reference; CSV references load as the table raw_<name>.
    - ``file_name``: The file's name in the reference mirror.
    - ``file_sha256``: SHA-256 of the file's bytes; what every copy must hash to.
    - ``bytes``: Size of the file in bytes.
    - ``url``: Pinned download URL serving these bytes, where there is one (else empty).
    - ``mirror_path``: The file's path relative to the reference mirror folder.
    - ``license``: The licence or public-domain status of the file, as the mirror's manifest gives it.
    - ``description``: What the file holds and where the copy was taken from.
    """

    name: str
    file_name: str
    file_sha256: str
    bytes: int
    url: str
    mirror_path: str
    license: str
    description: str

    @property
    def short(self) -> str:
        return f"{self.file_name} (reference {self.name}, sha256 {self.file_sha256[:12]})"

    @property
    def table(self) -> str | None:
        """The raw table a CSV reference loads into; None for other files."""
        return f"raw_{self.name}" if self.file_name.lower().endswith(".csv") else None


FIELDS = [f.name for f in fields(Reference)]


def name_for(file_name: str) -> str:
    """The registry id of a reference file."""
    if file_name in KNOWN_NAMES:
        return KNOWN_NAMES[file_name]
    return re.sub(r"[^a-z0-9]+", "_", PurePosixPath(file_name).stem.lower()).strip("_")


def check(reference: Reference, subject: str) -> Reference:
    """``reference`` if it is well formed; InputError naming ``subject`` and the problem otherwise."""
    if not NAME_PATTERN.fullmatch(reference.name):
        raise InputError(subject, f"reference name {reference.name!r} is not a snake_case id")
    if not SHA256_PATTERN.fullmatch(reference.file_sha256):
        raise InputError(subject, f"not a sha256: {reference.file_sha256!r}")
    if reference.bytes <= 0:
        raise InputError(subject, f"size must be a positive number of bytes, not {reference.bytes}")
    if not reference.file_name or "/" in reference.file_name or "\\" in reference.file_name:
        raise InputError(subject, f"file_name must be a bare file name, not {reference.file_name!r}")
    mirror_path = PurePosixPath(reference.mirror_path)
    if reference.mirror_path and (mirror_path.is_absolute() or ".." in mirror_path.parts):
        raise InputError(subject, f"mirror_path must stay inside the mirror folder, not {reference.mirror_path!r}")
    if reference.url and not re.match(r"https?://", reference.url):
        raise InputError(subject, f"url must be http(s), not {reference.url!r}")
    return reference


def _check_unique(references: list[Reference], subject: str) -> None:
    names: set[str] = set()
    hashes: set[str] = set()
    for reference in references:
        if reference.name in names:
            raise InputError(subject, f"reference name {reference.name!r} is registered twice")
        if reference.file_sha256 in hashes:
            raise InputError(subject, f"sha256 {reference.file_sha256} is registered twice")
        names.add(reference.name)
        hashes.add(reference.file_sha256)


def load_registry(path: Path) -> list[Reference]:
    """The checked rows of ``sources/references.csv``, sorted by name."""
    if not path.exists():
        raise InputError(str(path), "reference registry not found (run `ice287g sources seed-references`)")
    references: list[Reference] = []
    for subject, row in read_rows(path, FIELDS, "reference registry"):
        try:
            size = int(row["bytes"])
        except (TypeError, ValueError) as exc:
            raise InputError(subject, f"bytes is not a whole number: {row['bytes']!r}") from exc
        reference = Reference(**{k: row[k] or "" for k in FIELDS if k != "bytes"}, bytes=size)
        references.append(check(reference, subject))
    _check_unique(references, str(path))
    return sorted(references, key=lambda r: r.name)


def to_csv(references: list[Reference]) -> str:
    """The registry text: fixed columns, rows sorted by name, LF line ends."""
    return rows_text(sorted(references, key=lambda r: r.name), FIELDS)


def save_registry(path: Path, references: list[Reference]) -> None:
    _check_unique(references, str(path))
    write_atomically(path, to_csv(references).encode())


def references_from_manifest(manifest: Path) -> list[Reference]:
    """A reference for every row of the reference mirror's ``MANIFEST.csv``, sorted by name."""
    references = []
    for subject, row in manifest_rows(manifest):
        try:
            source = row["source"].strip()
            file_name = PurePosixPath(row["path"]).name
            reference = Reference(
                name=name_for(file_name),
                file_name=file_name,
                file_sha256=row["sha256"].strip().lower(),
                bytes=int(row["bytes"]),
                url=source if re.match(r"https?://", source) else "",
                mirror_path=row["path"],
                license=row["license"],
                description=row["description"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(subject, f"malformed manifest row ({exc})") from exc
        references.append(check(reference, subject))
    _check_unique(references, str(manifest))
    return sorted(references, key=lambda r: r.name)


def seed_registry(path: Path, manifest: Path) -> int:
    """Add the manifest's references to the registry at ``path``; returns how many were new.

    A name already registered with other bytes is an error: a new edition of a reference gets a
    reviewed registry row, never a silent replacement.
    """
    current = {r.name: r for r in load_registry(path)} if path.exists() else {}
    added = 0
    for reference in references_from_manifest(manifest):
        known = current.get(reference.name)
        if known is None:
            current[reference.name] = reference
            added += 1
        elif known.file_sha256 != reference.file_sha256:
            raise InputError(
                str(path),
                f"reference {reference.name} is registered with sha256 {known.file_sha256}, "
                f"the manifest {manifest} has {reference.file_sha256}",
            )
    save_registry(path, list(current.values()))
    return added


def resolve_references(settings: Settings, references: list[Reference]) -> dict[str, Path]:
    """A verified store path for every reference; one error listing every file that failed."""
    store = Store(settings.store)
    paths, problems = {}, []
    for reference in references:
        try:
            path = resolve(reference, store, settings.reference_folder, settings.offline)
        except InputError as exc:
            problems.append(str(exc))
            continue
        if path.stat().st_size != reference.bytes:
            problems.append(f"{reference.short}: has {path.stat().st_size} bytes, registered {reference.bytes}")
        paths[reference.name] = path
    if problems:
        raise InputError(
            str(settings.reference_registry), f"{len(problems)} reference file(s) unusable:\n  " + "\n  ".join(problems)
        )
    return paths
