"""The claims file names make, including the publishers' typos."""

import datetime as dt

import pytest

from ice287g.sources.names import parse_name


@pytest.mark.parametrize(
    ("name", "archive_path", "expected"),
    [
        ("participatingAgencies03272026am.xlsx", "", ("participating", dt.date(2026, 3, 27), "03272026", "am", None)),
        ("pendingAgencies10292025pmB.xlsx", "", ("pending", dt.date(2025, 10, 29), "10292025", "pm", None)),
        ("pendingAgencies11202025mid.xlsx", "", ("pending", dt.date(2025, 11, 20), "11202025", "mid", None)),
        ("pendingAgencies05012025.xlsx", "", ("pending", dt.date(2025, 5, 1), "05012025", None, None)),
        # typos stay visible: no date is guessed from digits that are no date
        ("participatingAgencies090022025am.xlsx", "", ("participating", None, "090022025", "am", None)),
        ("pendingAgencies10223025am.xlsx", "", ("pending", dt.date(3025, 10, 22), "10223025", "am", None)),
        (
            "ParticipatingEntities-20210113002027.xlsx",
            "",
            ("participating", None, None, None, dt.datetime(2021, 1, 13, 0, 20, 27, tzinfo=dt.UTC)),
        ),
        (
            "pendingAgencies-20250221214937.xlsx",
            "",
            ("pending", None, None, None, dt.datetime(2025, 2, 21, 21, 49, 37, tzinfo=dt.UTC)),
        ),
        (
            "participatingAgencies05192025am.xlsx",
            "sheets/sheets_20250519_151802/participatingAgencies05192025am.xlsx",
            (
                "participating",
                dt.date(2025, 5, 19),
                "05192025",
                "am",
                dt.datetime(2025, 5, 19, 15, 18, 2, tzinfo=dt.UTC),
            ),
        ),
        ("participatingAgencies_with_links.xlsx", "", ("participating", None, None, None, None)),
        ("something.xlsx", "", (None, None, None, None, None)),
    ],
)
def test_parse_name(name, archive_path, expected):
    claims = parse_name(name, archive_path)
    assert (
        claims.claimed_list,
        claims.claimed_date,
        claims.claimed_date_text,
        claims.claimed_slot,
        claims.captured_at,
    ) == expected
