"""Read the claims a snapshot's file name makes: which list, which date, which capture time.

A name is the publisher's or the archive's claim, not a fact: the build checks each claim
against the file's contents later, and records every contradiction as a flag.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

# ICE's own names: participatingAgencies03272026am.xlsx, pendingAgencies10292025pmB.xlsx
_ICE_NAME = re.compile(
    r"^(?P<list>participating|pending)Agencies(?P<digits>\d{6,9})(?P<slot>am|mid|pm)?(?P<extra>[_A-Za-z0-9]*)\.xlsx$",
    re.IGNORECASE,
)
# Wayback captures: ParticipatingEntities-20210113002027.xlsx, pendingAgencies-20250221214937.xlsx
_WAYBACK_NAME = re.compile(
    r"^(?P<list>participating|pending)(?:Entities|Agencies)-(?P<stamp>\d{14})\.xlsx$", re.IGNORECASE
)
_ANY_LIST = re.compile(r"^(?P<list>participating|pending)", re.IGNORECASE)
# Archives that keep one folder per capture: sheets/sheets_20250519_151802/...
_CAPTURE_FOLDER = re.compile(r"(?:^|/)sheets_(?P<stamp>\d{8}_\d{6})/")


@dataclass(frozen=True)
class NameClaims:
    claimed_list: str | None
    claimed_date: dt.date | None
    claimed_date_text: str | None
    claimed_slot: str | None
    captured_at: dt.datetime | None


def _utc(stamp: str, fmt: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(stamp, fmt).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def parse_name(file_name: str, archive_path: str = "") -> NameClaims:
    """Claims made by ``file_name`` (and, where the archive encodes one, its capture folder)."""
    captured = None
    folder = _CAPTURE_FOLDER.search(archive_path or "")
    if folder:
        captured = _utc(folder.group("stamp"), "%Y%m%d_%H%M%S")

    m = _WAYBACK_NAME.match(file_name)
    if m:
        return NameClaims(m.group("list").lower(), None, None, None, _utc(m.group("stamp"), "%Y%m%d%H%M%S"))

    m = _ICE_NAME.match(file_name)
    if m:
        digits = m.group("digits")
        date = None
        if len(digits) == 8:
            try:
                date = dt.date(int(digits[4:]), int(digits[:2]), int(digits[2:4]))
            except ValueError:
                date = None
        slot = m.group("slot").lower() if m.group("slot") else None
        return NameClaims(m.group("list").lower(), date, digits, slot, captured)

    m = _ANY_LIST.match(file_name)
    return NameClaims(m.group("list").lower() if m else None, None, None, None, captured)
