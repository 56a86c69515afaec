"""UTC times as text, in one place: the registries' and the published CSVs' one form."""

from __future__ import annotations

import datetime as dt

# The one text form of a UTC time, in the registries and in the published CSVs; DuckDB casts it
# to a timestamp as it is, so the SQL side needs no copy of it.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_text(value: dt.datetime | str | None) -> str:
    """An ISO timestamp normalised to UTC with a Z suffix, or empty."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime(TIMESTAMP_FORMAT)
