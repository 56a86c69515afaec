-- One row per agreement version (agency, support model, signing date) as listed, with the
-- agreement it belongs to: version runs joined by int_agreement_run_links are one agreement,
-- named after its first-listed version, so a later re-dating or re-attribution never renames it.
with recursive runs as (
    select * from {{ ref('int_agreement_version_runs') }}
),

links as (
    select * from {{ ref('int_agreement_run_links') }}
),

run_nodes as (
    select run_key as node from runs
),

edge_nodes as (
    select
        run_a as node_a,
        run_b as node_b
    from links
),

{{ reach_ctes('run_nodes', 'edge_nodes') }},

components as (
    select
        reach.node as run_key,
        arg_min(reach.member, struct_pack(s := runs.first_sequence, k := runs.run_key)) as first_run_key
    from reach
    inner join runs on reach.member = runs.run_key
    group by reach.node
),

agreement_ids as (
    select
        components.run_key,
        first_run.agency_id || '-' || lower(coalesce(support_models.abbreviation, 'unknown')) || '-'
        || coalesce(strftime(first_run.signed_date, '%Y%m%d'), 'undated') as agreement_id
    from components
    inner join runs as first_run on components.first_run_key = first_run.run_key
    left join {{ ref('support_models') }} as support_models on first_run.support_model = support_models.support_model
),

outgoing as (
    select
        run_a as run_key,
        bool_or(link_rule = 'redated') as was_redated,
        bool_or(link_rule = 'reattributed') as was_reattributed
    from links
    group by run_a
)

select
    runs.version_key,
    any_value(agreement_ids.agreement_id) as agreement_id,
    any_value(runs.agency_id) as agency_id,
    any_value(runs.state_code) as state_code,
    any_value(runs.support_model) as support_model,
    any_value(runs.signed_date) as signed_date,
    min(runs.first_sequence) as first_sequence,
    max(runs.last_sequence) as last_sequence,
    min(runs.first_listed_date) as first_listed_date,
    max(runs.last_listed_date) as last_listed_date,
    sum(runs.publication_count) as publication_count,
    arg_max(runs.moa_url, runs.last_sequence) filter (where runs.moa_url is not null) as moa_url,
    coalesce(bool_or(outgoing.was_redated), false) as was_redated,
    coalesce(bool_or(outgoing.was_reattributed), false) as was_reattributed
from runs
inner join agreement_ids on runs.run_key = agreement_ids.run_key
left join outgoing on runs.run_key = outgoing.run_key
group by runs.version_key
