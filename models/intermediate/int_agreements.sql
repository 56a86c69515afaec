-- One row per agreement version with the agreement it belongs to. ICE re-dates rows and
-- re-signs agreements; both show as one version of an agency and model leaving the list while
-- another arrives within the next three publications (a "handover"). The rules tell them apart:
--   * re-dated, same agreement: the two versions link the same MOA document, or the new date
--     is earlier than the old, or the dates are at most 31 days apart and the links do not
--     point to two different documents;
--   * re-signed, a new agreement that supersedes the old: any other handover.
-- Versions listed at the same time are always different agreements.
-- Re-attributed: ICE sometimes moves an agreement to another agency of the same state (a
-- sheriff's office to the county's corrections department). A version that leaves the list while
-- a version of another agency with the same model, signing date and MOA document arrives within
-- three publications is the same agreement; its agency is the one listed last.
with recursive versions as (
    select * from {{ ref('int_agreement_versions') }}
),

handovers as (
    select
        previous.version_key as old_key,
        successor.version_key as new_key,
        previous.signed_date as old_date,
        successor.signed_date as new_date,
        len(list_intersect(previous.moa_documents, successor.moa_documents)) > 0 as shares_document,
        len(previous.moa_documents) > 0 and len(successor.moa_documents) > 0
        and len(list_intersect(previous.moa_documents, successor.moa_documents)) = 0 as has_different_documents,
        row_number() over (
            partition by previous.version_key
            order by
                successor.first_sequence,
                abs(datediff('day', previous.signed_date, successor.signed_date)),
                successor.version_key
        ) as preference
    from versions as previous
    inner join versions as successor
        on
            previous.agency_id = successor.agency_id
            and previous.support_model = successor.support_model
            and previous.version_key <> successor.version_key
            and previous.last_sequence < successor.first_sequence
            and successor.first_sequence <= previous.last_sequence + 3
),

redates as (
    select
        old_key,
        new_key
    from handovers
    where
        preference = 1
        and (
            shares_document
            or new_date < old_date
            or old_date is null
            or new_date is null
            or (datediff('day', old_date, new_date) <= 31 and not has_different_documents)
        )
),

reattributions as (
    select
        previous.version_key as old_key,
        successor.version_key as new_key
    from versions as previous
    inner join versions as successor
        on
            previous.state_code = successor.state_code
            and previous.agency_id <> successor.agency_id
            and previous.support_model = successor.support_model
            and previous.signed_date = successor.signed_date
            and len(list_intersect(previous.moa_documents, successor.moa_documents)) > 0
            and previous.last_sequence < successor.first_sequence
            and successor.first_sequence <= previous.last_sequence + 3
),

version_nodes as (
    select version_key as node from versions
),

edge_nodes as (
    select
        old_key as node_a,
        new_key as node_b
    from redates
    union all
    select
        old_key as node_a,
        new_key as node_b
    from reattributions
),

{{ reach_ctes('version_nodes', 'edge_nodes') }},

components as (
    -- An agreement is named after its first-listed version, so later re-dating never renames it.
    select
        reach.node as version_key,
        arg_min(reach.member, struct_pack(s := versions.first_sequence, k := versions.version_key)) as first_version_key
    from reach
    inner join versions on reach.member = versions.version_key
    group by reach.node
)

select
    versions.*,
    components.first_version_key,
    first_version.agency_id || '-' || lower(coalesce(support_models.abbreviation, 'unknown')) || '-'
    || coalesce(strftime(first_version.signed_date, '%Y%m%d'), 'undated') as agreement_id,
    redates.new_key is not null as was_redated,
    reattributions.new_key is not null as was_reattributed
from versions
inner join components on versions.version_key = components.version_key
inner join versions as first_version on components.first_version_key = first_version.version_key
left join {{ ref('support_models') }} as support_models on first_version.support_model = support_models.support_model
left join redates on versions.version_key = redates.old_key
left join reattributions on versions.version_key = reattributions.old_key
