-- One row per spelling (state and canonical name) ICE listed, with the agency it belongs to:
-- spellings joined by a merged pair of int_agency_spelling_pairs are one agency.
-- The agency's id comes from its reviewed spelling (the target of a seeds/fix_agency_names.csv
-- row, even one ICE never listed, so a typo ICE never corrected does not name the agency), else
-- from its earliest-listed spelling (ties: most listings): new lists never change an existing
-- agency's id.
with recursive spellings as (
    select * from {{ ref('int_agency_spellings') }}
),

merged_pairs as (
    select * from {{ ref('int_agency_spelling_pairs') }}
    where merge_rule is not null
),

fix_targets as (
    select distinct
        state_code,
        {{ canonical_agency_name('agency_name') }} as canonical_name
    from {{ ref('fix_agency_names') }}
),

names as (
    -- every listed spelling, and every reviewed target even if never listed
    select
        state_code,
        canonical_name,
        first_listed_date,
        listing_count
    from spellings
    union all
    select
        fix_targets.state_code,
        fix_targets.canonical_name,
        null as first_listed_date,
        0 as listing_count
    from fix_targets
    left join spellings
        on fix_targets.state_code = spellings.state_code and fix_targets.canonical_name = spellings.canonical_name
    where spellings.canonical_name is null
),

name_nodes as (
    select state_code || '|' || canonical_name as node from names
),

edge_nodes as (
    select
        state_code || '|' || name_a as node_a,
        state_code || '|' || name_b as node_b
    from merged_pairs
),

{{ reach_ctes('name_nodes', 'edge_nodes') }},

components as (
    select
        reach.node,
        arg_min(
            names.canonical_name,
            struct_pack(
                r := fix_targets.canonical_name is null,
                f := names.first_listed_date,
                n := -names.listing_count,
                m := names.canonical_name
            )
        ) as agency_canonical_name
    from reach
    inner join names on reach.member = names.state_code || '|' || names.canonical_name
    left join fix_targets
        on names.state_code = fix_targets.state_code and names.canonical_name = fix_targets.canonical_name
    group by reach.node
),

rules as (
    select
        state_code,
        canonical_name,
        string_agg(distinct merge_rule, ',' order by merge_rule) as merge_rules
    from (
        select
            state_code,
            unnest([name_a, name_b]) as canonical_name,
            merge_rule
        from merged_pairs
    ) as merged_names
    group by state_code, canonical_name
)

select
    spellings.state_code,
    spellings.canonical_name,
    components.agency_canonical_name,
    -- a state code ICE appended to the name ("Unity Township Constable, PA") is not part of the id
    {{ slug(
        "spellings.state_code || ' ' || "
        ~ "regexp_replace(components.agency_canonical_name, ' ' || lower(spellings.state_code) || '$', '')"
    ) }} as agency_id,
    spellings.first_listed_date,
    spellings.last_listed_date,
    spellings.listing_count,
    rules.merge_rules
from spellings
inner join components on spellings.state_code || '|' || spellings.canonical_name = components.node
left join rules on spellings.state_code = rules.state_code and spellings.canonical_name = rules.canonical_name
