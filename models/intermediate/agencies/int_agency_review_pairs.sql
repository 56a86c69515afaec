-- One row per pair of close spellings in one state (at most 3 edits apart, or one the other plus
-- whole words) that the rules did NOT merge, for review (written to
-- build/review/agency_review_pairs.csv): a pair a reviewer judges to be one agency becomes a row
-- of seeds/fix_agency_names.csv. is_co_listed (both spellings on one list) is a hint, not proof
-- of two agencies; why_apart says which evidence was missing or against. Pairs listed at the same
-- time with different rows of one model (Bay and Clay County, two agreements at once) are two
-- agencies and left out. verdict and verdict_reason are the reviewer's (seeds/agency_pair_verdicts.csv);
-- a pair without one awaits review, and the build lists it.
with names as (
    select * from {{ ref('int_agency_spellings_resolved') }}
)

select
    pairs.state_code,
    pairs.name_a,
    pairs.name_b,
    a.agency_id as agency_id_a,
    b.agency_id as agency_id_b,
    pairs.similarity,
    pairs.edit_distance,
    pairs.is_co_listed,
    pairs.kind_a,
    pairs.kind_b,
    case
        when not pairs.is_same_kind then 'different_kinds'
        when not pairs.has_handover and not pairs.shares_document then 'no_handover_or_shared_moa'
        else 'not_similar'
    end as why_apart,
    verdicts.verdict,
    verdicts.reason as verdict_reason
from {{ ref('int_agency_spelling_pairs') }} as pairs
inner join names as a on pairs.state_code = a.state_code and pairs.name_a = a.canonical_name
inner join names as b on pairs.state_code = b.state_code and pairs.name_b = b.canonical_name
left join {{ ref('agency_pair_verdicts') }} as verdicts
    on pairs.state_code = verdicts.state_code and pairs.name_a = verdicts.name_a and pairs.name_b = verdicts.name_b
where
    a.agency_id <> b.agency_id
    and not pairs.has_conflicting_rows
    and (
        pairs.edit_distance <= {{ var('close_spelling_edit_distance') }}
        or starts_with(pairs.name_b, pairs.name_a || ' ')
        or starts_with(pairs.name_a, pairs.name_b || ' ')
    )
