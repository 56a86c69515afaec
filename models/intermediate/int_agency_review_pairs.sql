-- One row per pair of similar spellings in one state that the rules did NOT merge, for review:
-- a pair a reviewer judges to be one agency goes into seeds/fix_agency_names.csv.
with names as (
    select * from {{ ref('int_agency_names') }}
),

listed as (
    select
        publication_id,
        state_code,
        canonical_name
    from {{ ref('int_listings') }}
    where state_code is not null
    group by all
)

select
    a.state_code,
    a.canonical_name as name_a,
    b.canonical_name as name_b,
    a.agency_id as agency_id_a,
    b.agency_id as agency_id_b,
    round(jaro_winkler_similarity(a.canonical_name, b.canonical_name), 3) as similarity,
    levenshtein(a.canonical_name, b.canonical_name) as edit_distance,
    exists(
        select 1
        from listed as la
        inner join listed as lb on la.publication_id = lb.publication_id
        where
            la.state_code = a.state_code and la.canonical_name = a.canonical_name
            and lb.state_code = b.state_code and lb.canonical_name = b.canonical_name
    ) as is_co_listed
from names as a
inner join names as b
    on
        a.state_code = b.state_code
        and a.canonical_name < b.canonical_name
        and a.agency_id <> b.agency_id
where
    levenshtein(a.canonical_name, b.canonical_name) <= 3
    or starts_with(b.canonical_name, a.canonical_name || ' ')
    or starts_with(a.canonical_name, b.canonical_name || ' ')
