-- One row per pending application: a run of pending lists naming the same agency and model.
-- Back on a list at most var application_gap_publications lists after the one that last showed
-- it is the same application (counted in lineage order, so header-only lists do not count); a
-- longer absence ends it.
with pending as (
    select
        agency_id,
        coalesce(support_model, 'unknown') as support_model,
        sequence,
        min(published_date) as published_date
    from {{ ref('int_listings_identified') }}
    where list = 'pending' and agency_id is not null and sequence is not null
    group by all
),

breaks as (
    select
        *,
        case
            when
                sequence - lag(sequence) over (partition by agency_id, support_model order by sequence)
                > {{ var('application_gap_publications') }}
                then 1
            else 0
        end as starts_new
    from pending
),

spells as (
    select
        *,
        sum(starts_new) over (partition by agency_id, support_model order by sequence) as spell
    from breaks
)

select
    spells.agency_id,
    spells.support_model,
    spells.spell,
    min(spells.sequence) as first_sequence,
    max(spells.sequence) as last_sequence,
    min(spells.published_date) as first_listed_date,
    max(spells.published_date) as last_listed_date,
    spells.agency_id || '-' || lower(coalesce(any_value(models.abbreviation), 'unknown'))
    || '-pending-' || strftime(min(spells.published_date), '%Y%m%d') as application_id
from spells
left join {{ ref('support_models') }} as models on spells.support_model = models.support_model
group by spells.agency_id, spells.support_model, spells.spell
