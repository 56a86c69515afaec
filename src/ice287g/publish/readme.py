"""The texts that follow each release: the README's generated parts, ``CITATION.cff`` and
``.zenodo.json``.

Every figure and version they show comes from the committed release (``data/``,
``datapackage.json``, ``releases.csv``) or ``dbt_project.yml``, never from a hand edit: every
write of the committed release refreshes them, ``ice287g docs`` does the same on demand, and a
test fails when one lags behind the release.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from ice287g import PACKAGE_NAME
from ice287g.consume.versions import version_date
from ice287g.errors import ProjectError
from ice287g.publish.release import repository_url, write_citation
from ice287g.transform.project import tuning_vars
from ice287g.util.csvfile import write_atomically
from ice287g.util.hashing import sha256_bytes
from ice287g.validate import match_rates as geography

README = "README.md"
MODEL_WORDS = {
    "jail_enforcement": "jail enforcement",
    "task_force": "task force",
    "warrant_service_officer": "warrant service officer",
}


def _markers(name: str, source: str) -> tuple[str, str]:
    return f"<!-- {name}:start (generated from {source} by `ice287g docs`) -->", f"<!-- {name}:end -->"


HEADLINE = _markers("headline", "data/")
ARCHIVE = _markers("archive", "data/")
ERRATA = _markers("errata", "data/errata.csv")
PIN = _markers("release-pin", "releases.csv and datapackage.json")
VARS = _markers("tuning-vars", "dbt_project.yml")
# a rule's number in the README's prose, written beside its var: "within 3 lists (`var_name`)"
RULE_VALUE = re.compile(r"(?<![\w.])(?P<value>\d+(?:\.\d+)?)(?P<rest>(?:\s+[a-z]+)?\s+\(`(?P<name>[a-z_]+)`\))")


def vars_markdown(root: Path) -> str:
    """The README's table of tuning vars, between its markers."""
    rows = [f"| `{v.name}` | {_shown(v.value)} | {v.reason} |" for v in tuning_vars(root)]
    return "\n".join([VARS[0], "| var | value | why this value |", "|---|---|---|", *rows, VARS[1]])


def _shown(value: object) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def errata_counts(errata: pd.DataFrame) -> pd.DataFrame:
    """Per errata rule: how many contradictions it found and how many a reviewed fix corrected."""
    return (
        errata.assign(corrected=errata["corrected_value"].fillna("") != "")
        .groupby("rule", sort=True)
        .agg(found=("errata_id", "size"), corrected=("corrected", "sum"))
        .reset_index()
    )


def errata_markdown(release: Path) -> str:
    """The README's table of ICE's own mistakes the errata rules found, per rule."""
    counts = errata_counts(_read(release, "errata"))
    rows = [f"| `{r.rule}` | {_n(int(r.found))} | {_n(int(r.corrected))} |" for r in counts.itertuples()]
    total = f"| all rules | {_n(int(counts['found'].sum()))} | {_n(int(counts['corrected'].sum()))} |"
    body = ["| rule | found | corrected by a reviewed fix |", "|---|---|---|", *rows, total]
    return "\n".join([ERRATA[0], *body, ERRATA[1]])


def rule_values(readme: str, root: Path) -> str:
    """``readme`` with each number written beside a var ("3 lists (`var`)") set to the var's value:
    a rule's bound reaches the prose from ``dbt_project.yml`` alone. A name that is no var stops here."""
    values = {v.name: v.value for v in tuning_vars(root)}

    def value(match: re.Match) -> str:
        name = match.group("name")
        if name not in values:
            raise ProjectError(README, f"the rule text names `{name}`, which is no var of dbt_project.yml")
        return f"{values[name]}{match.group('rest')}"

    return RULE_VALUE.sub(value, readme)


def replace_block(readme: str, start_marker: str, end_marker: str, block: str) -> str:
    """``readme`` with the text from ``start_marker`` to ``end_marker`` replaced by ``block``."""
    start, end = readme.find(start_marker), readme.find(end_marker)
    if start < 0 or end < start:
        raise ProjectError(README, f"has no {start_marker!r} ... {end_marker!r} block")
    return readme[:start] + block + readme[end + len(end_marker) :]


def _read(release: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(release / "data" / f"{table}.csv", dtype=str, keep_default_na=False)


def _n(value: int) -> str:
    return f"{value:,}"


def _span(frame: pd.DataFrame) -> str:
    first, last = frame["published_date"].min(), frame["published_date"].max()
    return first if first == last else f"{first} to {last}"


def headline_markdown(release: Path) -> str:
    """The README's table of headline figures of the committed release."""
    publications, counts = _read(release, "publications"), _read(release, "counts")
    agencies, agreements = _read(release, "agencies"), _read(release, "agreements")
    applications, listings = _read(release, "applications"), _read(release, "listings")
    participating = publications[publications["list"] == "participating"]
    pending = publications[publications["list"] == "pending"]
    newest = participating.loc[participating["sequence"].astype(int).idxmax()]
    newest_counts = counts[counts["publication_id"] == newest["publication_id"]]
    by_model = newest_counts["count"].astype(int).groupby(newest_counts["support_model"]).sum()
    models = ", ".join(f"{_n(n)} {MODEL_WORDS.get(m, m)}" for m, n in by_model.items())
    status = agreements["status"].value_counts()
    outcomes = applications["outcome"].value_counts()
    reattributed = int(agreements["agency_ids_listed"].str.contains(" | ", regex=False).sum())
    came_back = agreements[agreements["period_count"].astype(int) > 1]
    kept_out = publications[publications["is_in_lineage"] == "false"]
    kept = "; ".join(
        f"{len(group)} {flag.replace('_', ' ')} {'list' if len(group) == 1 else 'lists'} "
        f"({', '.join(sorted(set(group['list'])))}, {_span(group)}, "
        f"{_n(group['snapshot_count'].astype(int).sum())} files)"
        for flag, group in kept_out.groupby("flags")
    )
    rows = [
        (
            "publications",
            f"{_n(len(participating))} participating lists ({_span(participating)}), "
            f"{_n(len(pending))} pending lists ({_span(pending)})",
        ),
        (
            "newest participating list",
            f"{newest['published_date']}: {_n(int(newest['row_count']))} rows, {_n(int(newest['agreement_count']))} "
            f"agreements in {newest['state_count']} states and territories ({models})",
        ),
        (
            "agencies",
            f"{_n(len(agencies))} in all; {_n(int((agencies['is_participating'] == 'true').sum()))} on the newest list",
        ),
        (
            "agreements",
            f"{_n(len(agreements))}: {_n(status.get('active', 0))} active, "
            f"{_n(status.get('superseded', 0))} superseded by a re-signed agreement, "
            f"{_n(status.get('removed', 0))} removed; "
            f"{_n(int((agreements['is_redated'] == 'true').sum()))} re-dated and {_n(reattributed)} re-attributed to "
            f"another agency by ICE while listed; {_n(len(came_back))} left the list and came back "
            f"(several periods in `agreement_periods`)",
        ),
        (
            "applications",
            f"{_n(len(applications))}: "
            + ", ".join(f"{_n(n)} {o.replace('_', ' ')}" for o, n in outcomes.sort_index().items()),
        ),
        (
            "listings",
            f"{_n(len(listings))} spans of the {_n(publications['row_count'].astype(int).sum())} rows of all "
            f"publications (one capture per publication); {_n(int((listings['row_flags'] != '').sum()))} spans "
            "carry a correction flag",
        ),
        ("kept out of lineage", kept or "none"),
    ]
    body = ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    return "\n".join([HEADLINE[0], *body, HEADLINE[1]])


def archive_markdown(release: Path) -> str:
    """The README's table of what the registered archive holds, as the committed release read it."""
    snapshots, publications = _read(release, "snapshots"), _read(release, "publications")
    by_list = snapshots["list"].value_counts().sort_index()
    layouts = sorted(set(snapshots["layout"]) - {""})
    newest = publications[publications["list"] == "participating"]
    newest = newest.loc[newest["sequence"].astype(int).idxmax()]
    rows = [
        (
            "registered snapshots",
            f"{_n(len(snapshots))} files ("
            + ", ".join(f"{_n(n)} {name} lists" for name, n in by_list.items())
            + ", judged by contents)",
        ),
        ("list rows", f"{_n(snapshots['row_count'].astype(int).sum())} in all files"),
        ("layouts seen", f"{len(layouts)}: " + ", ".join(f"`{layout}`" for layout in layouts)),
        ("newest list", f"participating list of {newest['published_date']}: {_n(int(newest['row_count']))} rows"),
    ]
    body = ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    return "\n".join([ARCHIVE[0], *body, ARCHIVE[1]])


def pin_markdown(release: Path, repository: str) -> str:
    """The README's recipes to pin the committed release, with its version and checksums."""
    raw = (release / "datapackage.json").read_bytes()
    version = json.loads(raw)["version"]
    descriptor_sha = sha256_bytes(raw)
    index = pd.read_csv(release / "releases.csv", dtype=str, keep_default_na=False)
    zip_sha = index.loc[index["version"] == version, "zip_sha256"].iloc[0]
    escaped = version.replace(".", r"\.")
    lines = [
        PIN[0],
        f"The release in this checkout is **{PACKAGE_NAME} {version}** (`datapackage.json` sha256 "
        f"`{descriptor_sha}`). Every release ever committed can be read back exactly, from a clone, with no "
        "tag and no network:",
        "",
        "```python",
        "import ice287g",
        f'agreements = ice287g.load("agreements", version="{version}")',
        "```",
        "",
        "finds the commit that released it in the repository's history and checks every table against the "
        "checksums its line of `releases.csv` records (`ice287g diff` takes the same versions). With git alone, "
        "the release's commit is the first whose `releases.csv` has its line:",
        "",
        "```sh",
        f"git checkout \"$(git log --reverse --format=%H -G '^{escaped},' -- releases.csv | head -n 1)\"",
        "```",
        "",
        "Without a clone, pin the descriptor of the release's commit by its sha256 (`ice287g versions` prints "
        "the commit and the sha256 of every release); every table is then checked against it:",
        "",
        "```python",
        "import ice287g",
        "agreements = ice287g.load(",
        '    "agreements",',
        f'    source="{repository}/raw/<commit>/datapackage.json",',
        f'    sha256="{descriptor_sha}",',
        ")",
        "```",
        "",
        f"`make build` also writes the release's zip, `dist/{PACKAGE_NAME}-{version}.zip`, the same bytes on any "
        "machine; pooch caches it and refuses any other bytes:",
        "",
        "```python",
        "import ice287g",
        f'agreements = ice287g.load("agreements", source="dist/{PACKAGE_NAME}-{version}.zip", sha256="{zip_sha}")',
        "```",
        PIN[1],
    ]
    return "\n".join(lines)


def readme_text(readme: str, root: Path, release: Path) -> str:
    """``readme`` with every generated block rewritten from ``dbt_project.yml`` (in ``root``) and the
    committed release in ``release``."""
    data = release / "data"
    rates = geography.match_rates(
        pd.read_csv(data / "agencies.csv", dtype=str), pd.read_csv(data / "agreements.csv", dtype=str)
    )
    blocks = [
        (*VARS, vars_markdown(root)),
        (geography.README_START, geography.README_END, geography.rates_markdown(rates)),
        (*HEADLINE, headline_markdown(release)),
        (*ARCHIVE, archive_markdown(release)),
        (*ERRATA, errata_markdown(release)),
        (*PIN, pin_markdown(release, repository_url(root))),
    ]
    for start, end, block in blocks:
        readme = replace_block(readme, start, end, block)
    return rule_values(readme, root)


def write_release_texts(root: Path, release: Path) -> list[str]:
    """Rewrite ``CITATION.cff``, ``.zenodo.json`` and the README's generated blocks (when
    ``release`` has a README) for the committed release in ``release``; the paths that changed."""
    version = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))["version"]
    changed = [p.name for p in write_citation(release, version, version_date(version), repository_url(root))]
    readme = release / README
    if readme.is_file():
        before = readme.read_text(encoding="utf-8")
        after = readme_text(before, root, release)
        if after != before:
            write_atomically(readme, after.encode("utf-8"))
            changed.append(README)
    return changed
