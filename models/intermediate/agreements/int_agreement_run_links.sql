-- One row per pair of version runs (int_agreement_version_runs) that list the same agreement,
-- with the rule that links them. This is the one place that decides "same agreement":
--   * same_version: two runs of one version (agency, model, signing date): it left and came back;
--   * redated: a run ends and another version of the same agency and model starts within var
--     agreement_handover_window_publications (the nearest such), and the versions link the same MOA
--     document, or the date moved earlier, or by at most var redate_max_days without two
--     different documents. A handover that fails this is a re-signing: a new agreement (the
--     old one is superseded in int_agreement_statuses). Runs listed in any order take part, so a
--     date changed and changed back (A, B, A) is one agreement. A run that is re-attributed
--     (below) is not also re-dated: the other agency kept its very date, and a version of the
--     old agency starting then with another date is that agency's own new agreement (Parker
--     County TX, May 2026: the county attorney's agreement of 2026-04-05, listed at first
--     under the district attorney, who signed one of its own on 2026-04-30);
--   * listed_twice: two versions of the same agency and model listed at the same time, dated at
--     most var redate_max_days apart, without two different documents (ICE listing one
--     agreement twice, e.g. under two spellings with two dates);
--   * reattributed: a version's last run ends and a version of another agency of the same state,
--     with the same model and signing date, starts within the window, and either both link the
--     same MOA document or, with no two different documents, both agencies are of the same
--     place (macro shares_place): ICE moved the agreement to another agency (a sheriff's office
--     to the county's corrections department, the prison or the county attorney). A version
--     that comes back later was not moved (ICE had linked another agency's MOA to it).
with runs as (
    select * from {{ ref('int_agreement_version_runs') }}
),

documents as (
    -- a version's documents over all its runs: a link posted later still identifies it
    select
        runs.version_key,
        list_sort(list_distinct(flatten(list(runs.moa_documents)))) as moa_documents
    from runs
    group by runs.version_key
),

runs_with_documents as (
    select
        runs.* exclude (runs.moa_documents),
        documents.moa_documents,
        runs.last_sequence = max(runs.last_sequence) over (partition by runs.version_key) as is_last_run
    from runs
    inner join documents on runs.version_key = documents.version_key
),

pairs as (
    select
        a.run_key as run_a,
        b.run_key as run_b,
        a.version_key as version_a,
        b.version_key as version_b,
        a.agency_id = b.agency_id as is_same_agency,
        a.signed_date as date_a,
        b.signed_date as date_b,
        a.last_sequence < b.first_sequence
        and b.first_sequence <= a.last_sequence + {{ var('agreement_handover_window_publications') }} as is_handover,
        a.first_sequence <= b.last_sequence and b.first_sequence <= a.last_sequence as is_concurrent,
        len(list_intersect(a.moa_documents, b.moa_documents)) > 0 as shares_document,
        len(a.moa_documents) > 0 and len(b.moa_documents) > 0
        and len(list_intersect(a.moa_documents, b.moa_documents)) = 0 as has_different_documents,
        a.first_sequence as first_a,
        b.first_sequence as first_b,
        a.is_last_run as is_last_run_a,
        {{ shares_place('a.agency_id', 'b.agency_id') }} as is_same_place
    from runs_with_documents as a
    inner join runs_with_documents as b
        on
            a.state_code = b.state_code
            and a.support_model = b.support_model
            and a.run_key <> b.run_key
            and b.first_sequence <= a.last_sequence + {{ var('agreement_handover_window_publications') }}
            and a.first_sequence <= b.last_sequence + {{ var('agreement_handover_window_publications') }}
),

same_version as (
    select
        runs.run_key as run_a,
        lead(runs.run_key) over (partition by runs.version_key order by runs.first_sequence) as run_b
    from runs
),

handovers as (
    select
        *,
        row_number() over (
            partition by run_a
            order by first_b, abs(datediff('day', date_a, date_b)), run_b
        ) as preference
    from pairs
    where is_same_agency and version_a <> version_b and is_handover
),

reattributions as (
    select
        run_a,
        run_b
    from pairs
    where
        not is_same_agency
        and is_handover
        and is_last_run_a
        and date_a = date_b
        and (shares_document or (is_same_place and not has_different_documents))
)

select
    run_a,
    run_b,
    'same_version' as link_rule
from same_version
where run_b is not null
union all
select
    run_a,
    run_b,
    'redated' as link_rule
from handovers
where
    preference = 1
    and run_a not in (select reattributions.run_a from reattributions)
    and (
        shares_document
        or date_b < date_a
        or date_a is null
        or date_b is null
        or (datediff('day', date_a, date_b) <= {{ var('redate_max_days') }} and not has_different_documents)
    )
union all
select
    run_a,
    run_b,
    'listed_twice' as link_rule
from pairs
where
    is_same_agency
    and is_concurrent
    and version_a < version_b
    and abs(datediff('day', date_a, date_b)) <= {{ var('redate_max_days') }}
    and not has_different_documents
union all
select
    run_a,
    run_b,
    'reattributed' as link_rule
from reattributions
