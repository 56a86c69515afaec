-- One row per pair of similar spellings in one state that the rules did NOT merge, for review:
-- a pair a reviewer judges to be one agency goes into seeds/fix_agency_names.csv.
with names as (
    select * from {{ ref('int_agency_names') }}
),

listings as (
    select
        publication_id,
        state_code,
        canonical_name
    from {{ ref('int_listings') }}
    where state_code is not null
),

co_listed as (
    {{ spellings_sharing('listings', 'publication_id') }}
)

select
    a.state_code,
    a.canonical_name as name_a,
    b.canonical_name as name_b,
    a.agency_id as agency_id_a,
    b.agency_id as agency_id_b,
    round(jaro_winkler_similarity(a.canonical_name, b.canonical_name), 3) as similarity,
    levenshtein(a.canonical_name, b.canonical_name) as edit_distance,
    co_listed.name_a is not null as is_co_listed
from names as a
inner join names as b
    on
        a.state_code = b.state_code
        and a.canonical_name < b.canonical_name
        and a.agency_id <> b.agency_id
left join co_listed
    on
        a.state_code = co_listed.state_code
        and a.canonical_name = co_listed.name_a
        and b.canonical_name = co_listed.name_b
where
    levenshtein(a.canonical_name, b.canonical_name) <= 3
    or starts_with(b.canonical_name, a.canonical_name || ' ')
    or starts_with(a.canonical_name, b.canonical_name || ' ')
