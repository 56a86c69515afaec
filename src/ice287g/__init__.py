"""ice287g: the open, reproducible data package of the U.S. 287(g) program.

``ice287g.load("agreements")`` reads a published table into pandas.
"""

PACKAGE_NAME = "ice287g"

# ICE's page that publishes the participating and pending lists.
ICE_PAGE = "https://www.ice.gov/identify-and-arrest/287g"

# The method release number: part of every version (see README, "Versions"). Bump it whenever a
# change to code, models, fix tables or expectations changes the package's bytes for the same data,
# and say why in sources/method-releases/<n>.md (it heads the version's changelog section).
METHOD_RELEASE = 9


def load(table: str, version: str | None = None, source=None, sha256: str | None = None, as_of=None, list=None):
    """A published table as a pandas DataFrame; see ice287g.consume.loader.load. Needs only pandas
    (pyarrow, when installed, reads Parquet; pooch, when installed, reads URLs)."""
    from .consume.loader import load as _load

    return _load(table, version=version, source=source, sha256=sha256, as_of=as_of, list=list)


__all__ = ["ICE_PAGE", "METHOD_RELEASE", "PACKAGE_NAME", "load"]
