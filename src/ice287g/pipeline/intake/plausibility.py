"""Whether a workbook is a plausible next list: it has a date (from its name, or a reviewed fix of
it), and its row count is in line with the list of its kind before it (the order of lists by the
date and slot their names claim)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ice287g.raw.layouts import LIST_KINDS, Layout, detect_workbook
from ice287g.raw.workbook import read_workbook
from ice287g.sources.registry import (
    Entry,
)

# How far a list's data rows may stray from the list of its kind before it, from the archive's
# own history (1,124 files, 2021 to March 2026). The participating list has never shrunk by more
# than 1.4% from one publication to the next, and grew at most by 58% (151 to 239 rows, February
# 2025): a list below 90% or above three times its predecessor is a broken export or another file.
PARTICIPATING_MIN_RATIO = 0.9

PARTICIPATING_MAX_RATIO = 3.0

# ICE's pending list drains to a handful of rows, and to none six times in November 2025, so it
# has no lower bound; it has never held more than 101 applications.
PENDING_MAX_ROWS = 1_000

_SLOT_RANK = {"am": 1, "mid": 2, "pm": 3}


@dataclass(frozen=True)
class ListFacts:
    """A list as the plausibility rules see it: whose it is, which list, how many data rows."""

    name: str
    kind: str
    rows: int


def read_list(path: Path, display: str, layouts: dict[tuple[str, ...], Layout]) -> ListFacts:
    """The list a workbook holds and its data rows; InputError if it is no workbook or an unknown layout."""
    detected = detect_workbook(read_workbook(path, display), layouts, display)
    found = next(d for d in detected if d.layout.list in LIST_KINDS)
    return ListFacts(display, found.layout.list, len(found.data_rows))


def date_fixes(root: Path) -> dict[tuple[str, str], dt.date]:
    """The reviewed corrections of dates that file names state wrongly (``seeds/fix_snapshot_dates.csv``),
    by (file name, the name's digits): the same table the build dates publications with."""
    path = root / "seeds" / "fix_snapshot_dates.csv"
    if not path.exists():
        return {}
    with open(path, newline="", encoding="utf-8") as fh:
        return {
            (row["file_name"], row["claimed_date_text"]): dt.date.fromisoformat(row["corrected_date"])
            for row in csv.DictReader(fh)
        }


def _day(timestamp: str) -> dt.date | None:
    return dt.date.fromisoformat(timestamp[:10]) if timestamp else None


def date_in_name(entry: Entry, fixes: dict[tuple[str, str], dt.date]) -> dt.date | None:
    """The date the file's name gives, as a reviewed fix corrects it; None when it gives none."""
    fixed = fixes.get((entry.file_name, entry.claimed_date_text))
    if fixed is None and entry.claimed_date:
        return dt.date.fromisoformat(entry.claimed_date)
    return fixed


def publication_order(
    entry: Entry, fixes: dict[tuple[str, str], dt.date], registered_on: dt.date | None = None
) -> tuple | None:
    """Where a list sits among the others, or None when nothing dates it.

    Its date is its name's (as corrected by ``fixes``) unless that is later than the day the file
    was archived, or, with no archive time, ``registered_on`` (a typo: no list is published after
    it was saved), else the day it was captured; the slot of the day, the capture and archive
    times and the name order lists of one day.
    """
    name_date = date_in_name(entry, fixes)
    archived = _day(entry.archived_at) or registered_on
    if name_date is not None and archived is not None and name_date > archived:
        name_date = None
    date = name_date or _day(entry.captured_at)
    if date is None:
        return None
    return (date, _SLOT_RANK.get(entry.claimed_slot, 4), entry.captured_at, entry.archived_at, entry.file_name)


def previous_list(
    order: tuple,
    kind: str,
    candidates: Iterable[tuple[tuple, Entry]],
    facts_of: Callable[[Entry], ListFacts | None],
) -> ListFacts | None:
    """The newest list of ``kind`` before ``order`` among ``candidates`` (order, entry) whose
    contents can be read: newest first, skipping files not at hand and files that hold the other list."""
    for _, entry in sorted((c for c in candidates if c[0] < order), key=lambda c: c[0], reverse=True):
        facts = facts_of(entry)
        if facts is not None and facts.kind == kind:
            return facts
    return None


def list_candidates(entries: Iterable[Entry], fixes: dict[tuple[str, str], dt.date]) -> list[tuple[tuple, Entry]]:
    """(order, entry) of every dated entry whose name does not claim the pending list: where the
    list before a participating list is looked for (contents are checked when it is read)."""
    return [
        (order, entry)
        for entry in entries
        if entry.claimed_list != "pending" and (order := publication_order(entry, fixes)) is not None
    ]


def plausibility_problems(
    entry: Entry,
    facts: ListFacts,
    candidates: list[tuple[tuple, Entry]],
    facts_of: Callable[[Entry], ListFacts | None],
    fixes: dict[tuple[str, str], dt.date],
    registered_on: dt.date | None = None,
) -> list[str]:
    """Why a list should not be registered without a maintainer insisting; empty when plausible.

    It must have a date no later than the day it is registered (``registered_on``, where it has
    no archive time), and a row count in line with the list of its kind before it: a
    participating list is compared with the newest of ``candidates`` before it that holds a
    participating list (``facts_of`` reads one, None when it is not at hand).
    """
    problems = []
    order = publication_order(entry, fixes, registered_on)
    if order is None:
        if entry.claimed_date:
            problems.append(
                f"the date in its name, {entry.claimed_date}, is later than the day it was registered and no "
                "capture time was given (correct a typo in seeds/fix_snapshot_dates.csv, or give --captured-at)"
            )
        elif entry.claimed_date_text:
            problems.append(
                f"the digits of its name, {entry.claimed_date_text}, are no date and no capture time was given "
                "(correct them in seeds/fix_snapshot_dates.csv, or give --captured-at)"
            )
        else:
            problems.append("it has no date: its name carries none and no capture time was given (--captured-at)")
    if facts.kind == "pending" and facts.rows > PENDING_MAX_ROWS:
        problems.append(
            f"it lists {facts.rows:,} pending applications, more than {PENDING_MAX_ROWS:,}: ICE's pending list "
            "has never held more than about a hundred"
        )
    if facts.kind == "participating" and order is not None:
        others = [c for c in candidates if c[1].file_sha256 != entry.file_sha256]
        previous = previous_list(order, "participating", others, facts_of)
        if previous is not None and facts.rows < PARTICIPATING_MIN_RATIO * previous.rows:
            problems.append(
                f"it lists {facts.rows:,} agreements, fewer than {PARTICIPATING_MIN_RATIO:.0%} of the "
                f"{previous.rows:,} on the participating list before it ({previous.name}); the list has never "
                "shrunk so much between two publications"
            )
        elif previous is not None and facts.rows > PARTICIPATING_MAX_RATIO * previous.rows:
            problems.append(
                f"it lists {facts.rows:,} agreements, more than {PARTICIPATING_MAX_RATIO:g} times the "
                f"{previous.rows:,} on the participating list before it ({previous.name})"
            )
    return problems
