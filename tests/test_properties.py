"""Property tests (hypothesis) of the parsers identity and dates rest on: the agency-name
canonicaliser and match key (macros/text.sql), the published-date parser (macros/dates.sql) and
the claims a file name makes (ice287g.sources.names).

The dbt macros are rendered to plain SQL with jinja2 (they use no dbt context) and each
hypothesis example evaluates its whole batch of names or dates in one DuckDB query. Examples are
derandomized, nothing is stored and conftest pins the constants Hypothesis mixes in, so every run
checks the same cases wherever the checkout lies. The four tests that close this file each pinned
a bug these properties found (a doubled "The", DOC/DPS after a state's name, Colorado's code, the
Virgin Islands' dots), fixed in macros/text.sql.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import string
import subprocess
import sys

import duckdb
import jinja2
import pyarrow as pa
import pytest
from conftest import REPO, SHARED
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ice287g.sources.names import parse_name

MACROS = REPO / "macros"
PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=60)


def _macros(name: str):
    return jinja2.Environment().from_string((MACROS / name).read_text(encoding="utf-8")).module


TEXT, DATES = _macros("text.sql"), _macros("dates.sql")
CANONICAL_SQL = f"select {TEXT.canonical_agency_name('name')} from batch order by i"
# as int_agency_spellings calls it: the state's name and code from the Census states, canonicalised
MATCH_KEY_SQL = f"""select {TEXT.agency_match_key("canonical", "name_key", "code_key")}
from (select i, {TEXT.canonical_agency_name("name")} as canonical,
{TEXT.canonical_agency_name("state_name")} as name_key,
{TEXT.canonical_agency_name("lower(state_code)")} as code_key from batch) order by i"""
DATE_SQL = f"""select cast({DATES.parse_published_date("text", "kind")} as varchar),
{DATES.published_date_method("text", "kind")} from batch order by i"""

_con = duckdb.connect()


def _run(sql: str, **columns: list) -> list[tuple]:
    """``sql`` over a table ``batch`` of the given columns (and a row number ``i``), in one query."""
    n = len(next(iter(columns.values())))
    batch = pa.table({"i": list(range(n)), **{k: pa.array(v, pa.string()) for k, v in columns.items()}})
    _con.register("batch", batch)
    try:
        return _con.execute(sql).fetchall()
    finally:
        _con.unregister("batch")


def canonical(names: list[str]) -> list[str | None]:
    return [c for (c,) in _run(CANONICAL_SQL, name=names)]


def match_keys(cases: list[tuple[str, str, str]]) -> list[str | None]:
    """The match key of each (name as published, state name as the Census gives it, state code)."""
    names, state_names, codes = zip(*cases, strict=True)
    return [k for (k,) in _run(MATCH_KEY_SQL, name=list(names), state_name=list(state_names), state_code=list(codes))]


def published_dates(cases: list[tuple[str, str]]) -> list[tuple[str | None, str | None]]:
    """(date as ISO text or None, method) of each (text as published, cell kind)."""
    texts, kinds = zip(*cases, strict=True)
    return _run(DATE_SQL, text=list(texts), kind=list(kinds))


# --- names -------------------------------------------------------------------------------------

# the states as the build reads them: the Census file of the reference mirror (stg_census__states)
# (of a state's several names, the shortest without an abbreviation point, as that model keeps)
with open(SHARED.parent / "reference" / "census-states.csv", newline="", encoding="utf-8") as fh:
    _NAMES = sorted((row["postal"], "." in row["name"], len(row["name"]), row["name"]) for row in csv.DictReader(fh))
_FIRST = {code: name for code, _, _, name in reversed(_NAMES)}  # the first in that order wins
STATES = sorted((name, code) for code, name in _FIRST.items())

# Words either macro gives a meaning to; generated place names never use them, so whatever a
# template adds around a place is the only thing that differs between two spellings.
RESERVED = {
    # what canonical_agency_name rewrites or drops, and what it writes
    *("the", "co", "county", "so", "south", "pd", "police", "department", "dept", "sheriff", "sheriffs", "office"),
    *("st", "saint", "ft", "fort", "twp", "township", "dist", "district"),
    # what agency_match_key rewrites or drops, and the state bodies it knows
    *("city", "town", "village", "of", "and", "parish", "constable", "constables", "bocc", "dps", "doc"),
    *("board", "commissioners", "commission", "public", "safety", "corrections", "correction", "state", "highway"),
    *("bureau", "division", "attorney", "patrol", "marine", "wildlife", "fish", "game", "university"),
    *(word for name, _ in STATES for word in re.split(r"[^a-z]+", name.lower()) if word),
}
place_word = st.text(string.ascii_lowercase, min_size=3, max_size=9).filter(lambda w: w not in RESERVED)
place = st.lists(place_word, min_size=1, max_size=3).map(lambda ws: " ".join(w.capitalize() for w in ws))
state = st.sampled_from(STATES)

VOCABULARY = [
    *("the", "The", "of", "and", "&", "City", "Town", "Village", "County", "Co", "Co.", "Parish", "Precinct", "1"),
    *("Sheriff", "Sheriff's", "Sheriffs", "Sheriff\u2019s", "SO", "So", "PD", "Police", "Department", "Dept"),
    *("Dept.", "Office", "St", "St.", "Saint", "Ft", "Twp", "Township", "Dist", "District", "Constable"),
    *("Constable's", "BOCC", "DPS", "DOC", "Board", "Commissioners", "State", "Highway", "Patrol", "Jail"),
    *("(", ")", "Texas", "TX", "12"),
]
SEPARATORS = [" ", "  ", "-", ", ", ". ", "/", " & "]


@st.composite
def agency_names(draw) -> str:
    """A name of agency vocabulary and place words, in any case and punctuation (ASCII, and \u2019)."""
    words = draw(st.lists(st.sampled_from(VOCABULARY) | place_word, min_size=1, max_size=6))
    name = words[0]
    for word in words[1:]:
        name += draw(st.sampled_from(SEPARATORS)) + word
    return draw(st.sampled_from([str, str.upper, str.lower, str.title, str.swapcase]))(name)


batch_of = st.lists  # each example is a batch: one query per example


@PROPERTY
@given(batch_of(st.text() | agency_names(), min_size=1, max_size=20))
@example(["", " ", "()", "Tampa Pd", "ÀÉ"])
def test_canonical_name_is_lower_case_words_and_never_null(names):
    for name, result in zip(names, canonical(names), strict=True):
        assert result is not None, name
        assert re.fullmatch(r"([a-z0-9]+( [a-z0-9]+)*)?", result), (name, result)
        if re.search(r"[A-Za-z0-9]", name):
            assert result, name


@PROPERTY
@given(batch_of(agency_names() | st.text(), min_size=1, max_size=20))
@example(["Alpha County SO", "Pasco Co Sheriffs Dept", "So Middleton Twp"])
def test_canonical_name_is_idempotent(names):
    once = canonical(names)
    twice = canonical(once)
    for name, first, second in zip(names, once, twice, strict=True):
        assert second == first, name


@PROPERTY
@given(batch_of(place, min_size=1, max_size=10))
@example(["Colony"])
def test_canonical_name_is_idempotent_for_a_doubled_leading_the(places):
    once = canonical([f"The The {p} Police Department" for p in places])
    assert canonical(once) == once


@st.composite
def respelled(draw, name: str) -> str:
    """``name`` in another case, with other whitespace between, before and after its words, and
    punctuation the canonicaliser drops inserted anywhere."""
    spaces = st.text(" \t\n\u00a0", min_size=1, max_size=3)
    words = [draw(st.sampled_from([str, str.upper, str.lower, str.swapcase]))(w) for w in name.split(" ")]
    text = draw(spaces) + "".join(w + draw(spaces) for w in words)
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(list("'\u2019\u2018`\u00b4.,()"))) + text[at:]
    return text


@PROPERTY
@given(st.data())
def test_canonical_name_ignores_case_whitespace_and_dropped_punctuation(data):
    names = data.draw(batch_of(agency_names(), min_size=1, max_size=10))
    variants = [data.draw(respelled(name)) for name in names]
    assert canonical(variants) == canonical(names), variants


# two spellings of one canonical name: abbreviations spelled out, punctuation dropped
SAME_CANONICAL = [
    ("{p} Co Sheriff's Office", "{p} County Sheriffs Office"),
    ("{p} County SO", "{p} County Sheriff\u2019s Office"),
    ("{p} PD", "{p} Police Department"),
    ("{p} Police Dept.", "{p} Police Department"),
    ("St. {p} Twp Police", "Saint {p} Township Police"),
    ("Ft {p} PD", "Fort {p} Police Department"),
    ("So {p} Twp", "South {p} Township"),
    ("{p} School Dist", "{p} School District"),
    ("{p} & {q} Sheriff", "{p} and {q} Sheriff"),
    ("The {p} Police Department", "{p} Police Department"),
    ("{p} (Police Department)", "{p} Police Department"),
]


@PROPERTY
@given(batch_of(st.tuples(st.sampled_from(SAME_CANONICAL), place, place), min_size=1, max_size=10))
def test_abbreviations_and_punctuation_give_one_canonical_name(cases):
    pairs = [(a.format(p=p, q=q), b.format(p=p, q=q)) for (a, b), p, q in cases]
    results = canonical([name for pair in pairs for name in pair])
    for i, (a, b) in enumerate(pairs):
        assert results[2 * i] == results[2 * i + 1], (a, b)


# two spellings ICE used for one agency (README, "Identity and lineage rules": the match key)
SAME_KEY = [
    ("City of {p} Police Department", "{p} Police Department"),
    ("Town of {p} PD", "{p} Police Department"),
    ("Village of {p} Police Department", "{p} Police Department"),
    ("{p} Parish Sheriff's Office", "{p} County Sheriff's Office"),
    ("{p} County Sheriff's Department", "{p} County Sheriff's Office"),
    ("{p} County Sheriff's Office", "{p} Sheriff's Office"),
    ("{p} County Constable's Office Precinct 4", "{p} County Constable Precinct 4"),
    ("{p} County BOCC", "{p} County Board of County Commissioners"),
    ("{p} DPS", "{p} Department of Public Safety"),
    ("{p} DOC", "{p} Department of Corrections"),
    ("{state} Department of Corrections", "Department of Corrections"),
    ("State of {state} Highway Patrol", "Highway Patrol"),
    ("{code} Dept of Justice", "Department of Justice"),
    ("{p} Township Constable, {code}", "{p} Township Constable"),
    ("{p} Police Department, {code}", "{p} Police Department"),
    ("{p} Police Department {state}", "{p} Police Department"),
    ("{p} Sheriffs' Offices", "{p} Sheriff's Office"),
    ("{p} Highway State Patrol", "{p} State Highway Patrol"),
]


CODE_AFTER = ("{p} Police Department, {code}", "{p} Police Department")
STATE_NAME_AROUND = [
    ("{state} Department of Corrections", "Department of Corrections"),
    ("State of {state} Highway Patrol", "Highway Patrol"),
    ("{p} Police Department {state}", "{p} Police Department"),
]
STATE_ABBREVIATIONS = [
    ("{state} DOC", "{state} Department of Corrections"),
    ("{state} DPS", "{state} Department of Public Safety"),
]
assert CODE_AFTER in SAME_KEY and set(STATE_NAME_AROUND) <= set(SAME_KEY)


def _same_key(cases) -> None:
    """Each case: ((spelling a, spelling b), place, (state name, code)); a and b share a key."""
    rows = []
    for (a, b), p, (name, code) in cases:
        for template in (a, b):
            rows.append((template.format(p=p, state=name.title(), code=code), name, code))
    keys = match_keys(rows)
    for i in range(0, len(rows), 2):
        assert keys[i] == keys[i + 1], (rows[i], rows[i + 1], keys[i], keys[i + 1])


@PROPERTY
@given(batch_of(st.tuples(st.sampled_from(SAME_KEY), place, state), min_size=1, max_size=10))
def test_documented_variants_share_a_match_key(cases):
    _same_key(cases)


@PROPERTY
@given(batch_of(st.tuples(st.sampled_from(STATE_ABBREVIATIONS), place, state), min_size=1, max_size=5))
@example([(STATE_ABBREVIATIONS[0], "Any", ("VIRGINIA", "VA"))])
def test_a_state_body_abbreviated_after_the_state_name_shares_the_key(cases):
    _same_key(cases)


@PROPERTY
@given(batch_of(st.tuples(st.just(CODE_AFTER), place, st.just(("COLORADO", "CO"))), min_size=1, max_size=5))
@example([(CODE_AFTER, "Aurora", ("COLORADO", "CO"))])
def test_colorados_code_after_a_name_is_dropped(cases):
    _same_key(cases)


@PROPERTY
@given(
    batch_of(st.tuples(st.sampled_from(STATE_NAME_AROUND), place, st.just(("U.S. VIRGIN ISLANDS", "VI"))), min_size=1)
)
@example([(STATE_NAME_AROUND[0], "Any", ("U.S. VIRGIN ISLANDS", "VI"))])
def test_the_virgin_islands_name_before_or_after_a_name_is_dropped(cases):
    _same_key(cases)


# words whose order and plural do not matter: none takes part in a rule that reads word sequences
ORDERLESS = ["police", "sheriff", "office", "highway", "patrol", "marshal", "jail", "task", "force", "services"]
SINGULAR = ["office", "patrol", "officer", "service", "marshal", "deputy"]


@PROPERTY
@given(
    batch_of(
        st.tuples(
            st.lists(place_word | st.sampled_from(ORDERLESS), min_size=1, max_size=5).flatmap(
                lambda ws: st.tuples(st.just(ws), st.permutations(ws))
            ),
            st.lists(st.tuples(place_word | st.sampled_from(SINGULAR), st.booleans()), min_size=1, max_size=4),
            state,
        ),
        min_size=1,
        max_size=10,
    )
)
def test_word_order_and_plurals_do_not_change_the_match_key(cases):
    rows = []
    for (words, shuffled), singulars, (name, code) in cases:
        rows.append((" ".join(words), name, code))
        rows.append((" ".join(shuffled), name, code))
        rows.append((" ".join(w for w, _ in singulars), name, code))
        rows.append((" ".join(w + "s" if plural and not w.endswith("s") else w for w, plural in singulars), name, code))
    keys = match_keys(rows)
    for i in range(0, len(rows), 2):
        assert keys[i] == keys[i + 1], (rows[i], rows[i + 1])


@PROPERTY
@given(batch_of(st.tuples(place, state), min_size=1, max_size=10))
def test_different_bodies_of_one_place_keep_different_keys(cases):
    """A county police department is not the city's police department, nor a sheriff's office."""
    rows = []
    for p, (name, code) in cases:
        for template in ("{p} County Police Department", "{p} Police Department", "{p} Sheriff's Office"):
            rows.append((template.format(p=p), name, code))
    keys = match_keys(rows)
    for i in range(0, len(rows), 3):
        assert len(set(keys[i : i + 3])) == 3, rows[i : i + 3]


# --- dates as published (macros/dates.sql) -----------------------------------------------------

EXCEL_EPOCH = dt.date(1899, 12, 30)
# the text forms the macro reads: (method, format of month, day, four-digit year)
TEXT_FORMS = [
    ("iso_text", "{y:04}-{m:02}-{d:02}"),
    ("iso_text", "{y:04}-{m}-{d}"),
    ("us_text", "{m}/{d}/{y:04}"),
    ("us_text", "{m:02}/{d:02}/{y:04}"),
    ("us_text_two_digit_year", "{m}/{d}/{yy:02}"),
    ("us_text_missing_slash", "{m:02}/{d:02}{y:04}"),
    ("us_text_missing_slash", "{m}/{d}{y:04}"),
    ("us_text_dashes", "{m}-{d}-{y:04}"),
]
spaces = st.text(" ", max_size=2)


@st.composite
def published_date(draw) -> tuple[str, str, dt.date, str]:
    """(text, cell kind, the date it stands for, the method that should read it)."""
    form = draw(st.sampled_from([*range(len(TEXT_FORMS)), "serial", "date", "datetime"]))
    if form == "serial":  # Excel's fake 1900-02-29 makes serials before March 1900 off by one
        day = draw(st.dates(dt.date(1900, 3, 1), dt.date(9999, 12, 31)))
        serial = str((day - EXCEL_EPOCH).days) + draw(st.sampled_from(["", ".0", ".25", ".5", ".999"]))
        return serial, "number", day, "excel_serial"
    if form in ("date", "datetime"):
        day = draw(st.dates(dt.date(1000, 1, 1)))
        time = draw(st.times()).replace(microsecond=0) if form == "datetime" else None
        return (f"{day} {time}" if time else day.isoformat()), form, day, "excel_date"
    method, template = TEXT_FORMS[form]
    # two-digit years: 69-99 are 1969-1999 and 00-68 are 2000-2068, as in Python's strptime
    low, high = (dt.date(1969, 1, 1), dt.date(2068, 12, 31)) if "yy" in template else (dt.date(1000, 1, 1), None)
    day = draw(st.dates(low, high or dt.date(9999, 12, 31)))
    text = template.format(y=day.year, yy=day.year % 100, m=day.month, d=day.day)
    return draw(spaces) + text + draw(spaces), "string", day, method


@PROPERTY
@given(batch_of(published_date(), min_size=1, max_size=30))
@example([("3/5/25", "string", dt.date(2025, 3, 5), "us_text_two_digit_year")])
@example([("45658", "number", dt.date(2025, 1, 1), "excel_serial")])
@example([("03/082025", "string", dt.date(2025, 3, 8), "us_text_missing_slash")])
def test_published_dates_round_trip_in_every_form(cases):
    results = published_dates([(text, kind) for text, kind, _, _ in cases])
    for (text, kind, day, method), result in zip(cases, results, strict=True):
        assert result == (day.isoformat(), method), (text, kind)


@st.composite
def impossible_date(draw) -> tuple[str, str]:
    """A date in a published form whose month or day does not exist, or a serial out of range."""
    if draw(st.booleans()):
        serial = draw(st.integers(max_value=0) | st.integers(min_value=2958466))
        return str(serial), "number"
    y = draw(st.integers(1900, 2099))
    m, d = draw(
        st.tuples(st.integers(0, 99), st.integers(0, 99)).filter(lambda md: not _is_date(y, *md)),
    )
    _, template = draw(st.sampled_from(TEXT_FORMS))
    kind = "date" if template.startswith("{y:04}-{m:02}") and draw(st.booleans()) else "string"
    return template.format(y=y, yy=y % 100, m=m, d=d), kind


def _is_date(y: int, m: int, d: int) -> bool:
    try:
        dt.date(y, m, d)
    except ValueError:
        return False
    return True


@PROPERTY
@given(batch_of(impossible_date(), min_size=1, max_size=30))
@example([("2/30/2025", "string"), ("2025-02-29", "date"), ("13/1/25", "string"), ("0", "number")])
def test_impossible_published_dates_are_null(cases):
    assert published_dates(cases) == [(None, None)] * len(cases), cases


@PROPERTY
@given(
    batch_of(
        st.tuples(st.text(), st.sampled_from(["string", "number", "date", "datetime", "boolean", "time"]) | st.text()),
        min_size=1,
        max_size=30,
    )
)
@example([("nan", "number"), ("inf", "number"), ("1e400", "number"), ("-0", "number"), ("2025-13-01", "date")])
@example([("INFINITY", "date"), ("-infinity", "datetime"), ("epoch", "date"), ("infinity", "string")])
def test_any_published_text_parses_without_error(cases):
    for (text, kind), (day, method) in zip(cases, published_dates(cases), strict=True):
        assert (day is None) == (method is None), (text, kind)
        if day is not None:
            dt.date.fromisoformat(day)


def test_words_duckdb_reads_as_dates_are_no_dates():
    """DuckDB casts 'infinity', '-infinity' and 'epoch' (any case) to dates, and its
    try_strptime gives 1900-01-01 for some of them: a cell that says one holds no date."""
    words = ["infinity", "INFINITY", "-infinity", "+Infinity", "epoch", " Epoch ", "infinity 00:00:00"]
    cases = [(word, kind) for word in words for kind in ("date", "datetime", "string", "number")]
    assert published_dates(cases) == [(None, None)] * len(cases)
    # the same cells with the date itself are read
    assert published_dates([("2025-03-01", "date"), ("2025-03-01 10:30:00", "datetime")]) == [
        ("2025-03-01", "excel_date"),
        ("2025-03-01", "excel_date"),
    ]


DRAWS = """
import json, sys
sys.path.insert(0, {tests!r})
import conftest
if {pinned!r}:
    conftest.pin_hypothesis_constants()
# the package's modules, and their constants
import ice287g.pipeline.build, ice287g.cli, ice287g.pipeline.intake.add, ice287g.pipeline.intake.acquire
from hypothesis import given, settings, strategies as st
seen = []
@settings(derandomize=True, database=None, deadline=None, max_examples=60)
@given(st.lists(st.tuples(st.text(), st.text()), max_size=5))
def draw(cases):
    seen.append(cases)
draw()
print(json.dumps(seen))
"""


@pytest.mark.parametrize("pinned", [True, False])
def test_the_examples_drawn_do_not_depend_on_where_the_checkout_lies(tmp_path, pinned):
    """The same derandomized test, with this package's code imported from here and from a folder
    named test: pinned as conftest pins every run, both draw the same examples; unpinned, they
    do not (what made a fresh clone fail where this checkout passed)."""
    link = tmp_path / "test" / "src"
    link.parent.mkdir()
    link.symlink_to(REPO / "src", target_is_directory=True)
    code = DRAWS.format(tests=str(REPO / "tests"), pinned=pinned)
    draws = []
    for source in (REPO / "src", link):
        env = {**os.environ, "PYTHONPATH": str(source)}
        run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stderr[-2000:]
        draws.append(json.loads(run.stdout))
    assert (draws[0] == draws[1]) is pinned


# --- file-name claims (ice287g.sources.names) ----------------------------------------------------------

list_word = st.sampled_from(["participating", "Participating", "PARTICIPATING", "pending", "Pending"])
slot = st.sampled_from([None, "am", "mid", "pm", "AM", "Pm"])
# what ICE or an archive appends after the date and slot: a letter, a suffix, never a digit or a slot
extra = st.from_regex(r"([BbCcXx_][_A-Za-z0-9]{0,8})?", fullmatch=True)
stamp = st.datetimes(dt.datetime(1000, 1, 1)).map(lambda t: t.replace(microsecond=0))
folder = st.sampled_from(["", "sheets/", "archive/2025/"])


@PROPERTY
@given(list_word, st.dates(), slot, extra, st.none() | stamp, folder)
@example("participating", dt.date(2026, 3, 27), "am", "", None, "")
@example("pending", dt.date(2025, 10, 29), "pm", "B", dt.datetime(2025, 10, 29, 15, 18, 2), "sheets/")
def test_ice_names_give_back_their_list_date_and_slot(word, day, slot, extra, captured, prefix):
    digits = f"{day.month:02}{day.day:02}{day.year:04}"
    name = f"{word}Agencies{digits}{slot or ''}{extra}.xlsx"
    path = f"{prefix}sheets_{captured:%Y%m%d_%H%M%S}/{name}" if captured else f"{prefix}{name}"
    claims = parse_name(name, path)
    assert (claims.claimed_list, claims.claimed_date, claims.claimed_date_text, claims.claimed_slot) == (
        word.lower(),
        day,
        digits,
        slot.lower() if slot else None,
    )
    assert claims.captured_at == (captured.replace(tzinfo=dt.UTC) if captured else None)


@PROPERTY
@given(list_word, st.sampled_from(["Entities", "Agencies", "entities"]), stamp, st.none() | stamp)
@example("Participating", "Entities", dt.datetime(2021, 1, 13, 0, 20, 27), None)
def test_wayback_names_give_back_their_capture_time(word, noun, captured, folder_stamp):
    name = f"{word}{noun}-{captured:%Y%m%d%H%M%S}.xlsx"
    path = f"sheets_{folder_stamp:%Y%m%d_%H%M%S}/{name}" if folder_stamp else name
    claims = parse_name(name, path)
    # the name's own stamp is the capture time, whatever folder the archive put it in
    assert (claims.claimed_list, claims.claimed_date, claims.claimed_slot, claims.captured_at) == (
        word.lower(),
        None,
        None,
        captured.replace(tzinfo=dt.UTC),
    )


@PROPERTY
@given(
    list_word,
    st.tuples(st.integers(0, 99), st.integers(0, 99), st.integers(0, 9999)),
    st.from_regex(r"[0-9]{6,9}", fullmatch=True),
    slot,
)
@example("participating", (9, 0, 22025), "010102025", "am")
@example("pending", (2, 30, 2025), "1022302", None)
def test_digits_that_are_no_date_claim_no_date(word, mdy, other_digits, slot):
    m, d, y = mdy
    digits = f"{m:02}{d:02}{y:04}"
    claims = parse_name(f"{word}Agencies{digits}{slot or ''}.xlsx")
    assert claims.claimed_date == (dt.date(y, m, d) if _is_date(y, m, d) and len(digits) == 8 else None)
    assert claims.claimed_date_text == digits
    if len(other_digits) != 8:
        assert parse_name(f"{word}Agencies{other_digits}{slot or ''}.xlsx").claimed_date is None


@PROPERTY
@given(st.text(), st.text() | st.just("sheets/sheets_20251399_999999/x.xlsx"))
@example("participatingAgencies99999999am.xlsx", "sheets_20250231_250000/a.xlsx")
@example("pendingAgencies-20251340996199.xlsx", "")
def test_any_name_gives_claims_without_raising(name, path):
    claims = parse_name(name, path)
    if not re.match(r"(participating|pending)", name, re.IGNORECASE):
        assert (claims.claimed_list, claims.claimed_date, claims.claimed_date_text, claims.claimed_slot) == (
            None,
            None,
            None,
            None,
        )
