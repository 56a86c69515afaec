"""The ``ice287g`` command line: a thin typer layer over the package's modules."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ice287g import ICE_PAGE, PACKAGE_NAME
from ice287g.errors import BuildError
from ice287g.settings import Settings

app = typer.Typer(help="Build and maintain the ice287g data package.", no_args_is_help=True)
sources_app = typer.Typer(
    help="The sources registries (sources/snapshots.csv, sources/references.csv).", no_args_is_help=True
)
app.add_typer(sources_app, name="sources")
console = Console(stderr=True, soft_wrap=True)

MirrorOption = Annotated[Path | None, typer.Option("--mirror", help="Mirror folder of raw files [env ICE287G_MIRROR].")]
StoreOption = Annotated[Path | None, typer.Option("--store", help="Content-addressed store [env ICE287G_STORE].")]


def _settings(mirror: Path | None = None, store: Path | None = None) -> Settings:
    return Settings.from_env(mirror=mirror, store=store)


def _fail(exc: BuildError) -> None:
    # a message may hold brackets ("ice287g[explore]", "[0-9a-f]"): text, not rich markup
    console.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
    raise typer.Exit(1)


@app.command()
def build(
    mirror: MirrorOption = None,
    store: StoreOption = None,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="Run every step even when nothing the build reads has changed since the last build "
            "(which is otherwise reused, once its outputs are checked unchanged).",
        ),
    ] = False,
) -> None:
    """Build everything from the registered snapshots (what `make build` runs)."""
    from ice287g.build import build as run_build
    from ice287g.build import build_lock, write_committed_release

    try:
        settings = _settings(mirror, store)
        # one lock over the build and the release it writes: no other build slips in between
        with build_lock(settings):
            result = run_build(settings, say=lambda m: console.print(m, highlight=False), reuse=not rebuild)
            changed = write_committed_release(settings, result)
    except BuildError as exc:
        _fail(exc)
    if changed:
        console.print(f"release {result.version} written to {settings.release}: {', '.join(changed[:8])}")
        console.print(
            "commit data/, docs/, datapackage.json, releases.csv and CHANGELOG.md with the change that caused it"
        )
    else:
        console.print(f"the committed release {result.version} in {settings.release} is up to date")
    for warning in result.warnings:  # said during the build; repeated where they are not scrolled away
        console.print(warning, highlight=False)
    console.print(f"[green]built[/] {PACKAGE_NAME} {result.version}: {result.package}")


@app.command()
def docs() -> None:
    """Regenerate the README's generated parts: the tuning vars (from dbt_project.yml) and the
    geography match rates (from the committed release's tables)."""
    import pandas as pd

    from ice287g import geography
    from ice287g.project import readme_with_vars, replace_block

    settings = _settings()
    readme = settings.root / "README.md"
    data = settings.release / "data"
    try:
        text = readme_with_vars(readme.read_text(encoding="utf-8"), settings.root)
        rates = geography.match_rates(
            pd.read_csv(data / "agencies.csv", dtype=str), pd.read_csv(data / "agreements.csv", dtype=str)
        )
        text = replace_block(text, geography.README_START, geography.README_END, geography.rates_markdown(rates))
    except BuildError as exc:
        _fail(exc)
    readme.write_text(text, encoding="utf-8")
    console.print(f"{readme}: tuning vars and match rates written")


@app.command()
def fetch(mirror: MirrorOption = None, store: StoreOption = None) -> None:
    """Resolve every registered file into the store, checking each checksum."""
    from ice287g.build import resolve_all
    from ice287g.registry import Registry

    settings = _settings(mirror, store)
    try:
        paths = resolve_all(settings, Registry.load(settings.registry))
    except BuildError as exc:
        _fail(exc)
    console.print(f"{len(paths)} files verified in {settings.store}")


@app.command()
def add(
    files: Annotated[list[Path], typer.Argument(help="Workbooks to register.")],
    url: Annotated[str, typer.Option(help="A pinned URL that serves these bytes.")] = "",
    captured_at: Annotated[str, typer.Option(help="When the file was captured (ISO 8601, UTC).")] = "",
    archive: Annotated[str, typer.Option(help="Where the file comes from.")] = "maintainer",
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Register a list that fails a plausibility check (no date; a row count far from the list "
            "before it); recorded in sources/forced.csv.",
        ),
    ] = False,
) -> None:
    """Register new snapshot files: check, copy into the store, hash, add to the registry."""
    from ice287g.intake import add_files

    try:
        outcomes = add_files(_settings(), files, force=force, archive=archive, url=url, captured_at=captured_at)
    except BuildError as exc:
        _fail(exc)
    for o in outcomes:
        # names and details come from files and web pages: text, not rich markup
        console.print(escape(f"{o.name}: {o.status} ({o.detail})"), highlight=False)


@app.command()
def acquire(
    page_url: Annotated[str, typer.Option(help="The 287(g) page to read.")] = "",
    force: Annotated[
        bool,
        typer.Option("--force", help="Register lists that fail a plausibility check; recorded in sources/forced.csv."),
    ] = False,
) -> None:
    """Fetch ICE's live 287(g) page and register the workbooks it links to that are new."""
    from ice287g.intake import acquire as run_acquire

    try:
        outcomes = run_acquire(_settings(), page_url or ICE_PAGE, force=force)
    except BuildError as exc:
        _fail(exc)
    for o in outcomes:
        # names and details come from files and web pages: text, not rich markup
        console.print(escape(f"{o.name}: {o.status} ({o.detail})"), highlight=False)
    if any(o.status == "refused" for o in outcomes):
        raise typer.Exit(1)


@app.command()
def release(
    mirror: MirrorOption = None,
    store: StoreOption = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Acquire nothing, download nothing [env ICE287G_OFFLINE].")
    ] = False,
) -> None:
    """Acquire new lists, build, and commit and tag a release if anything changed (never pushes)."""
    import os

    from ice287g.release import release as run_release

    if offline:
        os.environ["ICE287G_OFFLINE"] = "1"
    settings = _settings(mirror, store)
    try:
        result = run_release(
            settings.root,
            build_step=lambda: build(mirror, store),
            # the store first holds every registered list, so acquire can compare with the last one
            acquire_step=None if settings.offline else lambda: (fetch(mirror, store), acquire()),
            notes_dir=settings.dist,
            say=lambda m: console.print(m, highlight=False),
        )
    except BuildError as exc:
        _fail(exc)
    if result.released:
        console.print(f"[green]released[/] {PACKAGE_NAME} {result.version}: {result.tag} on {result.commit[:12]}")
        console.print(f"release notes: {result.notes}; push the commit and the tag to publish")


@app.command()
def diff(
    old: Annotated[str, typer.Argument(help="The earlier release: a version, a folder or a zip.")],
    new: Annotated[str, typer.Argument(help="The later release.")],
) -> None:
    """Print what changed between two releases (the changelog comparison). A version is found in
    dist/, else in git: its tag v<version>, or the commit that added it to releases.csv."""
    import tempfile

    from ice287g.changes import compare, render
    from ice287g.committed import locate

    settings = _settings()
    with tempfile.TemporaryDirectory() as work:
        try:
            folders = [locate(v, settings.root, settings.dist, Path(work)) for v in (old, new)]
        except BuildError as exc:
            _fail(exc)
        print(render(compare(*folders), f"{PACKAGE_NAME} {old} → {new}", old), end="")


@app.command()
def explore(
    port: Annotated[int, typer.Option(help="Port Datasette listens on.")] = 8001,
    host: Annotated[str, typer.Option(help="Address Datasette listens on.")] = "127.0.0.1",
) -> None:
    """Browse the committed release in Datasette (a SQLite copy in build/explore/) until Ctrl-C;
    needs Datasette and sqlite-utils, the package's optional extra "explore"."""
    import subprocess

    from ice287g import explore as browse

    settings = _settings()
    try:
        browse.require_extra()
        browse.check_port(host, port)
        db = browse.database(settings)
    except BuildError as exc:
        _fail(exc)
    console.print(f"serving {db} at {browse.url(host, port, db)} (Ctrl-C stops)", highlight=False)
    try:
        code = subprocess.run(browse.serve_command(db, browse.metadata_path(db), host, port)).returncode
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


def _seed(seed, registry: Path, manifest: Path, what: str) -> None:
    """Run a registry's ``seed(registry, manifest)`` and say what it added."""
    try:
        added = seed(registry, manifest)
    except BuildError as exc:
        _fail(exc)
    with open(registry, newline="", encoding="utf-8") as fh:
        total = sum(1 for _ in csv.DictReader(fh))
    console.print(f"{added} new of {total} registered {what} ({registry})")


@sources_app.command("seed")
def sources_seed(
    manifest: Annotated[Path | None, typer.Option(help="MANIFEST.csv (default: the mirror's).")] = None,
) -> None:
    """Add every row of a raw-snapshots MANIFEST.csv to the registry (idempotent)."""
    from ice287g.registry import seed_registry

    settings = _settings()
    _seed(seed_registry, settings.registry, manifest or settings.mirror / "MANIFEST.csv", "snapshots")


@sources_app.command("seed-references")
def sources_seed_references(
    manifest: Annotated[Path | None, typer.Option(help="MANIFEST.csv (default: the reference mirror's).")] = None,
) -> None:
    """Add every row of the reference mirror's MANIFEST.csv to sources/references.csv (idempotent)."""
    from ice287g.references import seed_registry

    settings = _settings()
    manifest = manifest or settings.reference_folder / "MANIFEST.csv"
    _seed(seed_registry, settings.reference_registry, manifest, "references")


@sources_app.command("summary")
def sources_summary() -> None:
    """Count registered snapshots by archive and claimed list."""
    from collections import Counter

    from ice287g.registry import Registry

    registry = Registry.load(_settings().registry)
    counts = Counter((e.archive, e.claimed_list) for e in registry)
    table = Table("archive", "claimed list", "files")
    for (archive, claimed), n in sorted(counts.items()):
        table.add_row(archive, claimed, str(n))
    Console().print(table)


if __name__ == "__main__":
    app()
