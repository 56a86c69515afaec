"""The ``ice287g`` command line: a thin typer layer over the package's modules."""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path
from typing import Annotated

try:
    import typer
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table
except ModuleNotFoundError as missing:  # `pip install .` installs the reader alone
    raise SystemExit(
        f"ice287g: the command line builds the package and needs the builder's libraries ({missing.name} is "
        "not installed): pip install '.[build]' in a clone, or use ice287g.load from Python"
    ) from None

from ice287g import ICE_PAGE, PACKAGE_NAME
from ice287g.errors import BuildError
from ice287g.publish.release import RELEASE_PATHS
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


# What a command may fail with and say as one line naming the file: bad input, a failed step, and
# the operating system's refusals (a full or read-only disk, a missing folder).
ERRORS = (BuildError, OSError)


def printable(text: str) -> str:
    """``text`` with every character that would act on a terminal (ESC, BEL, NUL, a right-to-left
    override) shown as its escape: names and messages come from files and web pages."""
    return "".join(
        ch
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp")
        else ch.encode("unicode_escape").decode()
        for ch in text
    )


def _say(message: str) -> None:
    console.print(printable(message), highlight=False)


def _fail(exc: BaseException) -> None:
    if isinstance(exc, OSError):
        where = exc.filename or "a file"
        message = f"{where}: {exc.strerror or exc}"
    else:
        message = str(exc)
    # a message may hold brackets ("ice287g[explore]", "[0-9a-f]"): text, not rich markup
    console.print(f"[bold red]error[/]: {escape(printable(message))}", highlight=False)
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
    from ice287g.pipeline.build import build_release

    try:
        settings = _settings(mirror, store)
        result, changed = build_release(settings, say=_say, reuse=not rebuild)
    except ERRORS as exc:
        _fail(exc)
    if changed:
        console.print(f"release {result.version} written to {settings.release}: {', '.join(changed[:8])}")
        console.print(f"commit them ({', '.join(RELEASE_PATHS)}) with the change that caused them")
    else:
        console.print(f"the committed release {result.version} in {settings.release} is up to date")
    for warning in result.warnings:  # said during the build; repeated where they are not scrolled away
        _say(warning)
    console.print(f"[green]built[/] {PACKAGE_NAME} {result.version}: {result.package}")


@app.command()
def docs() -> None:
    """Rewrite the texts that follow the committed release: the README's generated parts (tuning
    vars, match rates, headline figures, what the archive holds, how to pin the release),
    CITATION.cff and .zenodo.json. Every write of the release does this too."""
    from ice287g.pipeline.lock import checkout_lock
    from ice287g.publish.committed import ReleaseTransaction, committed_version
    from ice287g.publish.readme import write_release_texts

    settings = _settings()
    try:
        version = committed_version(settings.release) or ""
        with checkout_lock(settings), ReleaseTransaction(settings.release, version) as staged:
            write_release_texts(settings.root, staged.folder)
        changed = staged.changed
    except ERRORS as exc:
        _fail(exc)
    console.print(f"rewritten: {', '.join(changed)}" if changed else "README.md and the citation files are up to date")


@app.command()
def fetch(mirror: MirrorOption = None, store: StoreOption = None) -> None:
    """Resolve every registered file into the store, checking each checksum."""
    from ice287g.pipeline.build import resolve_all
    from ice287g.pipeline.lock import checkout_lock
    from ice287g.sources.registry import Registry

    settings = _settings(mirror, store)
    try:
        with checkout_lock(settings):
            paths = resolve_all(settings, Registry.load(settings.registry))
    except ERRORS as exc:
        _fail(exc)
    console.print(f"{len(paths)} files verified in {settings.store}")


ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Register a list that fails a plausibility check (no date; a row count far from the list "
        "before it); recorded in sources/forced.csv.",
    ),
]


def _say_outcomes(outcomes) -> None:
    for o in outcomes:
        # names and details come from files and web pages: text, not rich markup
        console.print(escape(printable(f"{o.name}: {o.status} ({o.detail})")), highlight=False)


@app.command()
def add(
    files: Annotated[list[Path], typer.Argument(help="Workbooks to register.")],
    url: Annotated[str, typer.Option(help="A pinned URL that serves these bytes.")] = "",
    captured_at: Annotated[str, typer.Option(help="When the file was captured (ISO 8601, UTC if no zone).")] = "",
    archived_at: Annotated[
        str, typer.Option(help="When an archive first kept the file (ISO 8601, UTC if no zone).")
    ] = "",
    archive: Annotated[str, typer.Option(help="Where the file comes from [default: maintainer].")] = "",
    mirror: MirrorOption = None,
    force: ForceOption = False,
) -> None:
    """Register snapshot files in hand: check, copy into the store, add to the registry.

    Bytes that the mirror's MANIFEST.csv lists take their provenance from it; any other file
    takes what the options say, and nothing else (no time is made up)."""
    from ice287g.pipeline.intake.add import add_files

    try:
        settings = _settings(mirror)
        outcomes = add_files(
            settings, files, force=force, archive=archive, url=url, captured_at=captured_at, archived_at=archived_at
        )
    except ERRORS as exc:
        _fail(exc)
    _say_outcomes(outcomes)


@app.command()
def acquire(
    page_url: Annotated[str, typer.Option(help="The 287(g) page to read.")] = "",
    force: ForceOption = False,
) -> None:
    """Fetch ICE's live 287(g) page and register the workbooks it links to that are new."""
    from ice287g.pipeline.intake.acquire import acquire as run_acquire

    try:
        outcomes = run_acquire(_settings(), page_url or ICE_PAGE, force=force)
    except ERRORS as exc:
        _fail(exc)
    _say_outcomes(outcomes)
    if any(o.status == "refused" for o in outcomes):
        raise typer.Exit(1)


@app.command()
def release(
    page_url: Annotated[str, typer.Option(help="The 287(g) page to acquire from [default: ICE's].")] = "",
    mirror: MirrorOption = None,
    store: StoreOption = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Acquire nothing, download nothing [env ICE287G_OFFLINE].")
    ] = False,
    force: ForceOption = False,
) -> None:
    """Acquire new lists, build, and commit and tag a release if anything changed (never pushes)."""
    import os

    from ice287g.errors import InputError
    from ice287g.pipeline.build import build_release, resolve_all
    from ice287g.pipeline.intake.acquire import acquire as run_acquire
    from ice287g.pipeline.lock import checkout_lock
    from ice287g.publish.release import release as run_release
    from ice287g.sources.registry import Registry

    if offline:
        os.environ["ICE287G_OFFLINE"] = "1"
    page = page_url or ICE_PAGE

    def acquire_step() -> None:
        # the store first holds every registered list, so acquire can compare with the last one
        resolve_all(settings, Registry.load(settings.registry), _say)
        outcomes = run_acquire(settings, page, force=force, all_or_nothing=True)
        _say_outcomes(outcomes)
        refused = [o for o in outcomes if o.status == "refused"]
        if refused:
            shown = "; ".join(f"{o.name}: {o.detail}" for o in refused[:5])
            raise InputError(page, f"{len(refused)} linked list(s) refused, so nothing is released: {shown}")

    try:
        settings = _settings(mirror, store)
        # one hold of the lock from the first download to the tag: no other command slips in
        with checkout_lock(settings):
            result = run_release(
                settings.root,
                build_step=lambda: build_release(settings, say=_say),
                acquire_step=None if settings.offline else acquire_step,
                notes_dir=settings.dist,
                say=_say,
            )
    except ERRORS as exc:
        _fail(exc)
    if result.released:
        console.print(f"[green]released[/] {PACKAGE_NAME} {result.version}: {result.tag} on {result.commit[:12]}")
        console.print(f"release notes: {result.notes}; push the commit and the tag to publish")


@app.command()
def versions() -> None:
    """Every release committed in this repository: its version, the commit that holds it and the
    sha256 of its datapackage.json (what `ice287g.load(..., sha256=...)` pins)."""
    from ice287g.consume import history

    settings = _settings()
    try:
        found = history.versions(settings.root)
    except ERRORS as exc:
        _fail(exc)
    table = Table("version", "commit", "datapackage.json sha256")
    for row in found:
        table.add_row(row["version"], row["commit"], row["descriptor_sha256"])
    Console(soft_wrap=True).print(table)


@app.command()
def diff(
    old: Annotated[str, typer.Argument(help="The earlier release: a version, a folder or a zip.")],
    new: Annotated[str, typer.Argument(help="The later release.")],
) -> None:
    """Print what changed between two releases (the changelog comparison): their tables and
    columns, then their rows. A version is found in dist/, else in the repository's history (the
    commit that released it, checked against releases.csv)."""
    import tempfile

    from ice287g.consume.locate import locate
    from ice287g.publish.changes import compare, render

    settings = _settings()
    with tempfile.TemporaryDirectory() as work:
        try:
            folders = [locate(v, settings.root, settings.dist, Path(work)) for v in (old, new)]
        except ERRORS as exc:
            _fail(exc)
        print(render(compare(*folders), f"{PACKAGE_NAME} {old} → {new}", old), end="")


@app.command()
def explore(
    port: Annotated[int, typer.Option(help="Port Datasette listens on.")] = 8001,
    host: Annotated[str, typer.Option(help="Address Datasette listens on.")] = "127.0.0.1",
) -> None:
    """Browse the committed release in Datasette (a SQLite copy in build/explore/) until Ctrl-C or
    a signal to this process, which becomes Datasette; needs Datasette and sqlite-utils, the
    package's optional extra "explore"."""
    from ice287g.consume import explore as browse

    settings = _settings()
    try:
        browse.require_extra()
        browse.check_port(host, port)
        db = browse.database(settings)
    except ERRORS as exc:
        _fail(exc)
    console.print(f"serving {db} at {browse.url(host, port, db)} (Ctrl-C stops)", highlight=False)
    browse.serve(db, browse.metadata_path(db), host, port)


@sources_app.command("seed")
def sources_seed(
    manifest: Annotated[Path | None, typer.Option(help="MANIFEST.csv (default: the mirror's).")] = None,
    mirror: MirrorOption = None,
    force: ForceOption = False,
) -> None:
    """Register every file of a raw-snapshots MANIFEST.csv that is not registered yet, with the
    provenance its row gives, each checked as `add` checks a file (idempotent)."""
    from ice287g.pipeline.intake.add import add_from_mirror
    from ice287g.sources.registry import Registry

    try:
        settings = _settings(mirror)
        outcomes = add_from_mirror(settings, manifest, force=force)
    except ERRORS as exc:
        _fail(exc)
    _say_outcomes(outcomes)
    console.print(f"{len(outcomes)} new of {len(Registry.load(settings.registry))} registered snapshots")


@sources_app.command("seed-references")
def sources_seed_references(
    manifest: Annotated[Path | None, typer.Option(help="MANIFEST.csv (default: the reference mirror's).")] = None,
) -> None:
    """Add every row of the reference mirror's MANIFEST.csv to sources/references.csv (idempotent)."""
    from ice287g.sources.references import seed_registry

    settings = _settings()
    registry = settings.reference_registry
    try:
        added = seed_registry(registry, manifest or settings.reference_folder / "MANIFEST.csv")
    except ERRORS as exc:
        _fail(exc)
    with open(registry, newline="", encoding="utf-8") as fh:
        total = sum(1 for _ in csv.DictReader(fh))
    console.print(f"{added} new of {total} registered references ({registry})")


@sources_app.command("summary")
def sources_summary() -> None:
    """Count registered snapshots by archive and claimed list."""
    from collections import Counter

    from ice287g.sources.registry import Registry

    registry = Registry.load(_settings().registry)
    counts = Counter((e.archive, e.claimed_list) for e in registry)
    table = Table("archive", "claimed list", "files")
    for (archive, claimed), n in sorted(counts.items()):
        table.add_row(archive, claimed, str(n))
    Console().print(table)


if __name__ == "__main__":
    app()
