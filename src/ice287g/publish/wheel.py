"""Build the ``ice287g-data`` wheel: one published version of the data package, installable with pip.

    python -m ice287g.publish.wheel [--version V] [--dist DIR] [--out DIR]     (what `make wheel` runs)

Which release: with no option, the release committed at the checkout root (``datapackage.json`` and
``data/``), so a fresh clone builds its wheel without running the pipeline; ``--version`` a version
built in ``dist/`` or, failing that, read back from the repository's history; ``--dist`` alone the
newest version built there.

The wheel (import name ``ice287g_data``, version = the package version, PEP 440 normalised) holds
the release's ``datapackage.json`` and ``data/*.csv``, and, for a built version, its ``SHA256SUMS``
and ``data/*.parquet``, beside a small ``__init__.py`` (the template
``src/ice287g/publish/data_wheel/ice287g_data/__init__.py``) and ``_reader/``: the reader's own
modules (``READER``), copied as they are, so the wheel's ``load`` is ``ice287g.load`` and needs
only pandas.

The release is checked before it is packed (``ice287g.consume.loader.verified_files``): every file
against ``SHA256SUMS`` and every CSV against the ``bytes`` and ``hash`` of its resource, so a damaged
package is never shipped.

The wheel is built by setuptools' PEP 517 backend (``setuptools.build_meta.build_wheel``, what
``python -m build --no-isolation`` calls) from a generated project in a temporary folder, with
``SOURCE_DATE_EPOCH`` set to the version's date: the same package folder gives the same wheel bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path, PurePosixPath

from packaging.version import InvalidVersion, Version

from ice287g.consume.loader import verified_files
from ice287g.consume.locate import locate
from ice287g.consume.versions import VERSION_PATTERN, list_versions, version_date
from ice287g.errors import InputError
from ice287g.settings import Settings, project_root

DISTRIBUTION = "ice287g-data"
IMPORT_NAME = "ice287g_data"
TEMPLATE = Path(__file__).parent / "data_wheel" / IMPORT_NAME / "__init__.py"
VERSION_LINE = '__version__ = "0.0.0"  # set by ice287g.publish.wheel when it builds the wheel'
PANDAS_REQUIREMENT = "pandas>=2.0"
PYARROW_REQUIREMENT = "pyarrow>=10"
PACKAGE = Path(__file__).resolve().parents[1]  # src/ice287g
# The reader, as the wheel's ice287g_data._reader: these modules import only each other (relatively),
# the standard library and pandas; test_wheel proves it in an environment with pandas alone.
READER = (
    "__init__.py",
    "errors.py",
    "settings.py",
    "util/__init__.py",
    "util/hashing.py",
    "util/inflate.py",
    "consume/__init__.py",
    "consume/loader.py",
    "consume/versions.py",
    "consume/history.py",
)
# The import packages those modules make in the wheel: ice287g_data._reader, ._reader.consume, ...
READER_PACKAGES = sorted(
    {f"{IMPORT_NAME}._reader" + "".join(f".{part}" for part in PurePosixPath(m).parent.parts) for m in READER}
)

# Runs in a child process inside the generated project: the PEP 517 build_wheel hook.
BUILD_HOOK = "import sys\nfrom setuptools import build_meta\nprint(build_meta.build_wheel(sys.argv[1]))\n"

DATA_LICENSE = """\
The data in this package (datapackage.json, SHA256SUMS and every file under data/) is dedicated to
the public domain under the Creative Commons Zero v1.0 Universal license (CC0 1.0):
https://creativecommons.org/publicdomain/zero/1.0/legalcode

ICE's 287(g) lists, from which the tables are built, are works of the U.S. government.
"""


def wheel_version(version: str) -> str:
    """The package version as PEP 440 normalises it (``2026.03.27.1`` -> ``2026.3.27.1``)."""
    try:
        return str(Version(version))
    except InvalidVersion:
        raise InputError(version, "not a PEP 440 version, so not a wheel version") from None


def source_date_epoch(version: str) -> int:
    """Seconds from 1970 to midnight UTC of the version's date (``2026.3.27.1`` -> 2026-03-27)."""
    return int(dt.datetime.combine(version_date(version), dt.time(), dt.UTC).timestamp())


def package_folder(dist: Path, version: str | None = None) -> Path:
    """The folder of ``version`` in ``dist`` (default: the newest version built there)."""
    if not dist.is_dir():
        raise InputError(str(dist), "no such folder: run `make build` first, or pass --dist")
    versions = list_versions(dist)
    if not versions:
        raise InputError(str(dist), "no package has been built here: run `make build` first")
    chosen = version or versions[-1]
    if chosen not in versions:
        raise InputError(str(dist / chosen), f"no such version has been built (have: {', '.join(versions)})")
    return dist / chosen


def checked_files(folder: Path) -> list[str]:
    """The files to pack (relative POSIX paths, sorted), once every one matches its recorded checksum;
    a built version (one with ``SHA256SUMS``) must also ship every table as Parquet.

    Raises InputError naming the first missing or damaged file.
    """
    files = verified_files(folder)
    if "SHA256SUMS" in files:
        descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
        for resource in descriptor["resources"]:
            parquet = f"data/{resource['name']}.parquet"
            if parquet not in files:
                raise InputError(str(folder / parquet), "missing from SHA256SUMS: every table ships as Parquet too")
    return files


def _toml(value: object) -> str:
    # a JSON string, list or number is a valid TOML basic string, array or number
    return json.dumps(value)


def _readme(descriptor: dict, version: str) -> str:
    tables = "\n".join(f"| `{r['name']}` | {r.get('title', '')} |" for r in descriptor["resources"])
    return f"""# {DISTRIBUTION} {version}

{descriptor.get("title", "")}

{descriptor.get("description", "")}

```python
import ice287g_data

ice287g_data.tables()                        # the table names
agreements = ice287g_data.load("agreements")  # a pandas DataFrame
active = ice287g_data.load("agreements", as_of="2025-07-01")  # the agreements listed that day
rows = ice287g_data.load("listings", as_of="2025-07-01", list="participating")  # that day's rows
ice287g_data.descriptor()                    # the Frictionless descriptor: every field typed and described
```

Only pandas is needed; with `pyarrow` installed (`pip install "{DISTRIBUTION}[parquet]"`) tables are
read from Parquet where the release ships it, otherwise from CSV with the types of the Table Schema
(codes stay text: `county_fips` "02150"). Every file is checked against the checksum the package
records for it before it is read. `as_of` gives a day's state only: a day outside the release's
lists is an error, and the columns that describe later lists are left out.

| table | |
|---|---|
{tables}

Data: CC0 1.0 (ICE's lists are works of the U.S. government). Code: MIT.
"""


def _pyproject(version: str, descriptor: dict, data_files: list[str], license_files: list[str]) -> str:
    description = descriptor.get("title") or "ICE 287(g) agreements: the full published history"
    return f"""[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = {_toml(DISTRIBUTION)}
version = {_toml(version)}
description = {_toml(description)}
readme = {{ file = "README.md", content-type = "text/markdown" }}
requires-python = ">=3.9"
license = "CC0-1.0 AND MIT"
license-files = {_toml(license_files)}
dependencies = [{_toml(PANDAS_REQUIREMENT)}]
keywords = {_toml(descriptor.get("keywords", []))}

[project.optional-dependencies]
parquet = [{_toml(PYARROW_REQUIREMENT)}]

[tool.setuptools]
packages = {_toml([IMPORT_NAME, *READER_PACKAGES])}
include-package-data = false

[tool.setuptools.package-data]
{IMPORT_NAME} = {_toml(data_files)}
"""


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(0o644)  # the wheel records file modes: the same on every machine


def stage(folder: Path, project: Path) -> str:
    """Write the project that builds the wheel of the package in ``folder`` into ``project``; return
    the wheel version."""
    files = checked_files(folder)
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    version = wheel_version(str(descriptor.get("version")))

    template = TEMPLATE.read_text(encoding="utf-8")
    if template.count(VERSION_LINE) != 1:
        raise InputError(str(TEMPLATE), f"must hold the line {VERSION_LINE!r} once")
    code = template.replace(VERSION_LINE, f"__version__ = {version!r}")
    _write(project / IMPORT_NAME / "__init__.py", code.encode("utf-8"))
    for module in READER:
        _write(project / IMPORT_NAME / "_reader" / module, (PACKAGE / module).read_bytes())
    for name in files:
        _write(project / IMPORT_NAME / name, (folder / name).read_bytes())

    license_files = ["LICENSE-DATA"]
    _write(project / "LICENSE-DATA", DATA_LICENSE.encode("utf-8"))
    code_license = project_root() / "LICENSE"
    if code_license.is_file():
        _write(project / "LICENSE", code_license.read_bytes())
        license_files.insert(0, "LICENSE")
    _write(project / "README.md", _readme(descriptor, version).encode("utf-8"))
    _write(project / "pyproject.toml", _pyproject(version, descriptor, files, license_files).encode("utf-8"))
    return version


def build_wheel(folder: Path, out: Path) -> Path:
    """Build the wheel of the package version in ``folder`` into ``out``; return its path."""
    folder = folder.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ice287g-wheel-") as tmp:
        project, built = Path(tmp) / "project", Path(tmp) / "wheel"
        built.mkdir()
        version = stage(folder, project)
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(source_date_epoch(version)), "PYTHONHASHSEED": "0"}
        run = subprocess.run(
            [sys.executable, "-c", BUILD_HOOK, str(built)],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
        )
        wheels = sorted(built.glob("*.whl"))
        if run.returncode != 0 or len(wheels) != 1:
            raise RuntimeError(
                f"setuptools could not build the wheel of {folder}:\n{(run.stdout + run.stderr)[-3000:]}"
            )
        target = out / wheels[0].name
        partial = out / f".{target.name}.partial"
        shutil.copyfile(wheels[0], partial)
        os.replace(partial, target)  # a reader never sees half a wheel
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ice287g.publish.wheel",
        description=f"Build the {DISTRIBUTION} wheel of a release and print its path.",
    )
    parser.add_argument(
        "--version", help="a version built in --dist or released in the repository (default: the committed release)"
    )
    parser.add_argument("--dist", type=Path, help="a folder of built versions: the newest, or --version, in it")
    parser.add_argument("--out", type=Path, help="where the wheel goes (default: dist/wheels)")
    args = parser.parse_args(argv)
    if args.version is not None and not VERSION_PATTERN.match(args.version):
        print(f"error: {InputError(args.version, 'not a package version (like 2026.3.27.1)')}", file=sys.stderr)
        return 1
    settings = Settings.from_env()
    out = args.out or (args.dist or settings.dist) / "wheels"
    try:
        with tempfile.TemporaryDirectory(prefix="ice287g-wheel-release-") as work:
            if args.dist is not None:
                folder = package_folder(args.dist, args.version)
            elif args.version is not None:
                folder = locate(args.version, settings.root, settings.dist, Path(work))
            else:
                folder = settings.release
                if not (folder / "datapackage.json").is_file():
                    raise InputError(str(folder), "no release is committed here (no datapackage.json)")
            wheel = build_wheel(folder, out)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(wheel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
