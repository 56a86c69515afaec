"""Where things live: project root, registry, store, mirror, build, dist and release folders; env overrides.

Also how long a build waits for another build of the same checkout (its lock is in the build folder).

Every location has a sensible default for a clone beside ``../shared`` and an environment
variable (the CLI options set the same values), so tests and maintainers can point elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError


def project_root() -> Path:
    """The folder holding ``dbt_project.yml``: ICE287G_ROOT, else the checkout this code is in."""
    if os.environ.get("ICE287G_ROOT"):
        return Path(os.environ["ICE287G_ROOT"]).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "dbt_project.yml").exists():
            return parent
    return Path.cwd().resolve()


@dataclass(frozen=True)
class Settings:
    root: Path
    registry: Path
    store: Path
    mirror: Path | None
    build_dir: Path
    offline: bool
    dist_dir: Path | None = None
    # Mirror folder of the reference tables (sources/references.csv); None means the default
    # ``<root>/../shared/reference`` (see reference_folder), unlike ``mirror``, where None is no mirror.
    reference_mirror: Path | None = None
    # Where the committed release lives (data/, datapackage.json, releases.csv, CHANGELOG.md):
    # the checkout root unless set (tests set it to a folder of their own).
    release_dir: Path | None = None
    # Seconds a build waits for another build of the same checkout (build/.lock) before it stops:
    # 0 stops at once, since a build takes minutes and a silent wait looks like a hang.
    lock_timeout: float = 0.0

    @property
    def dist(self) -> Path:
        return self.dist_dir or self.root / "dist"

    @property
    def release(self) -> Path:
        return self.release_dir or self.root

    @property
    def reference_registry(self) -> Path:
        return self.root / "sources" / "references.csv"

    @property
    def judges_fixes(self) -> bool:
        """True when the registry is the project's own (``sources/snapshots.csv``): the archive the
        reviewed fixes of ``seeds/`` were read against, where a fix that matches nothing is stale.
        A build of another registry (a test's small archive) cannot tell."""
        return self.registry.resolve() == (self.root / "sources" / "snapshots.csv").resolve()

    @property
    def reference_folder(self) -> Path:
        return self.reference_mirror or (self.root.parent / "shared" / "reference").resolve()

    @property
    def database(self) -> Path:
        return self.build_dir / "ice287g.duckdb"

    @classmethod
    def from_env(
        cls,
        root: Path | None = None,
        store: Path | None = None,
        mirror: Path | None = None,
        build_dir: Path | None = None,
        reference_mirror: Path | None = None,
    ) -> Settings:
        root = (root or project_root()).resolve()
        env = os.environ

        def pick(explicit: Path | None, var: str, default: Path) -> Path:
            if explicit is not None:
                return Path(explicit).resolve()
            if env.get(var):
                return Path(env[var]).resolve()
            return default

        mirror_default = (root.parent / "shared" / "raw-snapshots").resolve()
        mirror_path = pick(mirror, "ICE287G_MIRROR", mirror_default)
        return cls(
            root=root,
            registry=pick(None, "ICE287G_REGISTRY", root / "sources" / "snapshots.csv"),
            store=pick(store, "ICE287G_STORE", root / ".store"),
            mirror=mirror_path,
            build_dir=pick(build_dir, "ICE287G_BUILD_DIR", root / "build"),
            offline=env.get("ICE287G_OFFLINE", "") not in ("", "0", "false"),
            dist_dir=pick(None, "ICE287G_DIST_DIR", root / "dist"),
            reference_mirror=pick(
                reference_mirror, "ICE287G_REFERENCE_MIRROR", (root.parent / "shared" / "reference").resolve()
            ),
            lock_timeout=_seconds(env.get("ICE287G_LOCK_TIMEOUT", "")),
        )


def _seconds(text: str) -> float:
    """ICE287G_LOCK_TIMEOUT as seconds: empty is 0; anything but a number of seconds is an error."""
    if not text.strip():
        return 0.0
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also refuses nan
        raise InputError("ICE287G_LOCK_TIMEOUT", f"{text!r} is no number of seconds (0 or more)")
    return seconds
