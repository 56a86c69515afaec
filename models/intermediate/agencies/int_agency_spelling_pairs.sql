-- One row per pair of spellings of one state (name_a < name_b) that may name one agency, with the
-- evidence for and against, and the decision: merge_rule names the rule that merged the pair, or
-- is null when none did (close pairs left apart are written out for review). Rules, in order:
--   * fix_agency_names: a reviewed row of seeds/fix_agency_names.csv;
--   * same_match_key: the spellings differ only in what ICE adds to or drops from one agency's
--     name (macro agency_match_key: "City of", the state's name, Parish/County, BOCC, word
--     order...). One agency even when both are on one list: ICE lists one agency under two
--     spellings, one for each of its agreements;
--   * shared_moa: rows of both spellings link the same MOA document (the signed MOA names its
--     agency), and the spellings are never listed together (ICE sometimes links one agency's
--     row to another's MOA: "Wayne County" to Whitfield County's, both listed at once);
--   * handover: similar spellings (Jaro-Winkler at least var name_similarity_threshold, or one
--     is the other plus whole words) where a row (list, model and signing date or county) listed
--     under one is listed under the other within var respelling_window_publications.
-- The handover rule never merges two known kinds of body that differ (a sheriff's office and a
-- board of county commissioners sign different MOAs), nor spellings listed at the same time with
-- different rows of one model (one agency does not hold two agreements of one model at once).
with listings as (
    select
        state_code,
        canonical_name,
        publication_id,
        sequence,
        list,
        coalesce(support_model, 'unknown') as support_model,
        row_key,
        moa_document
    from {{ ref('int_listings_state_reassigned') }}
    where state_code is not null and canonical_name is not null
),

spellings as (
    select * from {{ ref('int_agency_spellings') }}
),

fixes as (
    select distinct
        state_code,
        least(
            {{ canonical_agency_name('published_name') }}, {{ canonical_agency_name('agency_name') }}
        ) as name_a,
        greatest(
            {{ canonical_agency_name('published_name') }}, {{ canonical_agency_name('agency_name') }}
        ) as name_b
    from {{ ref('fix_agency_names') }}
),

similar_pairs as (
    select
        a.state_code,
        a.canonical_name as name_a,
        b.canonical_name as name_b
    from spellings as a
    inner join spellings as b
        on a.state_code = b.state_code and a.canonical_name < b.canonical_name
    where
        a.match_key = b.match_key
        or levenshtein(a.canonical_name, b.canonical_name) <= {{ var('close_spelling_edit_distance') }}
        or jaro_winkler_similarity(a.canonical_name, b.canonical_name) >= {{ var('name_similarity_threshold') }}
        or starts_with(b.canonical_name, a.canonical_name || ' ')
        or starts_with(a.canonical_name, b.canonical_name || ' ')
),

co_listed as (
    {{ spellings_sharing('listings', 'publication_id') }}
),

shared_documents as (
    {{ spellings_sharing('listings', 'moa_document') }}
),

conflicts as (
    select distinct
        a.state_code,
        a.canonical_name as name_a,
        b.canonical_name as name_b
    from listings as a
    inner join listings as b
        on
            a.state_code = b.state_code
            and a.publication_id = b.publication_id
            and a.list = b.list
            and a.support_model = b.support_model
            and a.row_key <> b.row_key
            and a.canonical_name < b.canonical_name
),

spans as (
    select
        state_code,
        canonical_name,
        row_key,
        min(sequence) as first_sequence,
        max(sequence) as last_sequence
    from listings
    where sequence is not null
    group by state_code, canonical_name, row_key
),

handovers as (
    -- a row (same key) last listed under one spelling and first under another soon after
    select distinct
        x.state_code,
        least(x.canonical_name, y.canonical_name) as name_a,
        greatest(x.canonical_name, y.canonical_name) as name_b
    from spans as x
    inner join spans as y
        on x.state_code = y.state_code and x.row_key = y.row_key
    where
        x.canonical_name <> y.canonical_name
        and y.first_sequence - x.last_sequence between 1 and {{ var('respelling_window_publications') }}
),

pairs as (
    select * from similar_pairs
    union
    select * from shared_documents
    union
    select * from fixes
),

evidence as (
    select
        pairs.state_code,
        pairs.name_a,
        pairs.name_b,
        a.agency_kind as kind_a,
        b.agency_kind as kind_b,
        round(jaro_winkler_similarity(pairs.name_a, pairs.name_b), 3) as similarity,
        levenshtein(pairs.name_a, pairs.name_b) as edit_distance,
        fixes.name_a is not null as is_fixed,
        a.match_key = b.match_key as is_same_match_key,
        jaro_winkler_similarity(pairs.name_a, pairs.name_b) >= {{ var('name_similarity_threshold') }}
        or starts_with(pairs.name_b, pairs.name_a || ' ')
        or starts_with(pairs.name_a, pairs.name_b || ' ') as is_similar,
        shared_documents.name_a is not null as shares_document,
        handovers.name_a is not null as has_handover,
        co_listed.name_a is not null as is_co_listed,
        conflicts.name_a is not null as has_conflicting_rows,
        a.agency_kind is null or b.agency_kind is null or a.agency_kind = b.agency_kind as is_same_kind
    from pairs
    -- a fix may name a spelling never listed (its reviewed target): no listing evidence then
    left join spellings as a on pairs.state_code = a.state_code and pairs.name_a = a.canonical_name
    left join spellings as b on pairs.state_code = b.state_code and pairs.name_b = b.canonical_name
    left join fixes on {{ same_pair('pairs', 'fixes') }}
    left join shared_documents on {{ same_pair('pairs', 'shared_documents') }}
    left join handovers on {{ same_pair('pairs', 'handovers') }}
    left join co_listed on {{ same_pair('pairs', 'co_listed') }}
    left join conflicts on {{ same_pair('pairs', 'conflicts') }}
)

select
    *,
    case
        when is_fixed then 'fix_agency_names'
        when is_same_match_key then 'same_match_key'
        when shares_document and not is_co_listed then 'shared_moa'
        when is_similar and has_handover and is_same_kind and not has_conflicting_rows then 'handover'
    end as merge_rule
from evidence
