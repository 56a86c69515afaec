-- One row per spelling (state and canonical name) ICE used for an agency, with the agency it
-- belongs to. Spellings merge into one agency by rule or by reviewed fix:
--   * rule "handover": two similar spellings in one state that never appear in the same
--     publication, where a row (same list, model and signing date or county) listed under one
--     spelling is listed under the other within the next three publications: ICE re-spelled it;
--   * rule "shared MOA": two spellings in one state, never listed in the same publication,
--     whose rows link the same MOA document (the signed agreement names its agency);
--   * fix: a row of seeds/fix_agency_names.csv.
-- The agency's id comes from its reviewed canonical spelling (the target of a fix row) where it
-- has one, else from its earliest-listed spelling (ties: most listings): new lists never change
-- an existing agency's id. A typo that came first is given its canonical spelling by a fix row.
with recursive listings as (
    select * from {{ ref('int_listings') }}
    where state_code is not null and canonical_name is not null
),

spellings as (
    select
        state_code,
        canonical_name,
        min(published_date) as first_listed_date,
        max(published_date) as last_listed_date,
        count(*) as listing_count
    from listings
    group by state_code, canonical_name
),

spans as (
    select
        state_code,
        canonical_name,
        row_key,
        min(sequence) as first_sequence,
        max(sequence) as last_sequence
    from listings
    group by state_code, canonical_name, row_key
),

co_listed as (
    {{ spellings_sharing('listings', 'publication_id') }}
),

similar_pairs as (
    select
        a.state_code,
        a.canonical_name as name_a,
        b.canonical_name as name_b,
        jaro_winkler_similarity(a.canonical_name, b.canonical_name) as similarity,
        levenshtein(a.canonical_name, b.canonical_name) as edit_distance
    from spellings as a
    inner join spellings as b
        on a.state_code = b.state_code and a.canonical_name < b.canonical_name
    where
        jaro_winkler_similarity(a.canonical_name, b.canonical_name) >= 0.88
        or starts_with(b.canonical_name, a.canonical_name || ' ')
        or starts_with(a.canonical_name, b.canonical_name || ' ')
),

handovers as (
    select distinct
        x.state_code,
        least(x.canonical_name, y.canonical_name) as name_a,
        greatest(x.canonical_name, y.canonical_name) as name_b
    from spans as x
    inner join spans as y
        on
            x.state_code = y.state_code
            and x.row_key = y.row_key
            and x.canonical_name <> y.canonical_name
            and x.last_sequence < y.first_sequence
            and y.first_sequence <= x.last_sequence + 3
),

shared_documents as (
    {{ spellings_sharing('listings', 'moa_document') }}
),

candidates as (
    select
        similar_pairs.*,
        co_listed.name_a is not null as is_co_listed,
        handovers.name_a is not null as has_handover
    from similar_pairs
    left join co_listed
        on
            similar_pairs.state_code = co_listed.state_code
            and similar_pairs.name_a = co_listed.name_a
            and similar_pairs.name_b = co_listed.name_b
    left join handovers
        on
            similar_pairs.state_code = handovers.state_code
            and similar_pairs.name_a = handovers.name_a
            and similar_pairs.name_b = handovers.name_b
),

fixes as (
    select
        state_code,
        {{ canonical_agency_name('published_name') }} as name_a,
        {{ canonical_agency_name('agency_name') }} as name_b,
        reason
    from {{ ref('fix_agency_names') }}
),

edges as (
    select
        state_code,
        name_a,
        name_b,
        'handover' as merge_rule
    from candidates
    where has_handover and not is_co_listed
    union all
    select
        state_code,
        name_a,
        name_b,
        'fix_agency_names' as merge_rule
    from fixes
    union all
    select
        shared_documents.state_code,
        shared_documents.name_a,
        shared_documents.name_b,
        'shared_moa' as merge_rule
    from shared_documents
    left join co_listed
        on
            shared_documents.state_code = co_listed.state_code
            and shared_documents.name_a = co_listed.name_a
            and shared_documents.name_b = co_listed.name_b
    where co_listed.name_a is null
),

spelling_nodes as (
    select state_code || '|' || canonical_name as node from spellings
),

edge_nodes as (
    select
        state_code || '|' || name_a as node_a,
        state_code || '|' || name_b as node_b
    from edges
),

{{ reach_ctes('spelling_nodes', 'edge_nodes') }},

fix_targets as (
    select distinct
        state_code,
        name_b
    from fixes
),

components as (
    select
        reach.node,
        arg_min(
            spellings.canonical_name,
            struct_pack(
                r := fix_targets.name_b is null,
                f := spellings.first_listed_date,
                n := -spellings.listing_count,
                m := spellings.canonical_name
            )
        ) as agency_canonical_name
    from reach
    inner join spellings on reach.member = spellings.state_code || '|' || spellings.canonical_name
    left join fix_targets
        on spellings.state_code = fix_targets.state_code and spellings.canonical_name = fix_targets.name_b
    group by reach.node
)

select
    spellings.state_code,
    spellings.canonical_name,
    components.agency_canonical_name,
    {{ slug("spellings.state_code || ' ' || components.agency_canonical_name") }} as agency_id,
    spellings.first_listed_date,
    spellings.last_listed_date,
    spellings.listing_count,
    (
        select string_agg(distinct edges.merge_rule, ',' order by edges.merge_rule)
        from edges
        where
            edges.state_code = spellings.state_code
            and spellings.canonical_name in (edges.name_a, edges.name_b)
    ) as merge_rules
from spellings
inner join components on spellings.state_code || '|' || spellings.canonical_name = components.node
