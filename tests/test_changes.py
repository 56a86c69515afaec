"""The changelog's list of changed ids, on two tiny version folders the test writes."""

from pathlib import Path

import pandas as pd

from ice287g.changes import changed_ids


def write_version(folder: Path, listings: list[tuple], agencies: list[str], agreements: list[str]) -> Path:
    data = folder / "data"
    data.mkdir(parents=True)
    pd.DataFrame(listings, columns=["listing_id", "agency_id", "agreement_id", "application_id"]).to_csv(
        data / "listings.csv", index=False
    )
    pd.DataFrame({"agency_id": agencies}).to_csv(data / "agencies.csv", index=False)
    pd.DataFrame({"agreement_id": agreements}).to_csv(data / "agreements.csv", index=False)
    pd.DataFrame({"application_id": ["x-pending"]}).to_csv(data / "applications.csv", index=False)
    return folder


def test_every_id_that_disappeared_is_listed_with_its_successor(tmp_path):
    old = write_version(
        tmp_path / "old",
        [
            ("p1#2", "fl-city-of-x-pd", "fl-city-of-x-pd-tfm", ""),
            ("p1#3", "fl-x-pd", "fl-x-pd-wso", ""),
            ("p1#4", "fl-phantom", "fl-phantom-wso", ""),
            ("q1#2", "fl-y", "", "x-pending"),
        ],
        ["fl-city-of-x-pd", "fl-x-pd", "fl-phantom", "fl-y"],
        ["fl-city-of-x-pd-tfm", "fl-x-pd-wso", "fl-phantom-wso"],
    )
    new = write_version(
        tmp_path / "new",
        [
            ("p1#2", "fl-x-pd", "fl-city-of-x-pd-tfm", ""),
            ("p1#3", "fl-x-pd", "fl-x-pd-wso", ""),
            ("p1#4", "", "", ""),
            ("q1#2", "fl-y", "", "x-pending"),
        ],
        ["fl-x-pd", "fl-y"],
        ["fl-city-of-x-pd-tfm", "fl-x-pd-wso"],
    )
    changes = {c.title: c.items for c in changed_ids(old, new)}
    assert changes == {
        "agency ids changed": ["fl-city-of-x-pd → fl-x-pd", "fl-phantom → (no longer listed)"],
        "agreement ids changed": ["fl-phantom-wso → (no longer listed)"],
        "application ids changed": [],
    }
