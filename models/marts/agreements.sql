-- One row per signed agreement (agency, support model, signing date), through re-dating and
-- re-attribution (int_agreement_run_links decides which listed versions are one agreement).
-- Status: active on the newest participating list; superseded when a later-signed agreement of
-- the same agency and model was first listed while it was listed or soon after it left: within
-- var lineage_window_publications lists (the Wayback era has weeks between lists) or var
-- successor_window_days days (ICE sometimes takes an old MOA down days before posting the new);
-- else removed.
with versions as (
    select * from {{ ref('int_agreement_versions') }}
),

periods as (
    select
        agreement_id,
        count(*) as period_count
    from {{ ref('int_agreement_periods') }}
    group by agreement_id
),

agreements as (
    select
        agreement_id,
        arg_max(agency_id, last_sequence) as agency_id,
        any_value(support_model) as support_model,
        arg_max(signed_date, last_sequence) as signed_date,
        arg_max(moa_url, last_sequence) filter (where moa_url is not null) as moa_url,
        min(first_listed_date) as first_listed_date,
        max(last_listed_date) as last_listed_date,
        min(first_sequence) as first_sequence,
        max(last_sequence) as last_sequence,
        string_agg(distinct cast(signed_date as varchar), ' | ' order by cast(signed_date as varchar))
            as signed_dates_listed,
        bool_or(was_redated) as is_redated,
        string_agg(distinct agency_id, ' | ' order by agency_id) as agency_ids_listed
    from versions
    group by agreement_id
),

successors as (
    select
        previous.agreement_id,
        arg_min(successor.agreement_id, struct_pack(d := successor.signed_date, i := successor.agreement_id))
            as superseded_by
    from agreements as previous
    inner join agreements as successor
        on
            previous.agency_id = successor.agency_id
            and previous.support_model = successor.support_model
            and previous.agreement_id <> successor.agreement_id
            and previous.signed_date < successor.signed_date
            and previous.first_sequence < successor.first_sequence
            and (
                successor.first_sequence <= previous.last_sequence + {{ var('lineage_window_publications') }}
                or successor.first_listed_date
                <= previous.last_listed_date + to_days({{ var('successor_window_days') }})
            )
    group by previous.agreement_id
)

select
    agreements.agreement_id,
    agreements.agency_id,
    -- the agency's county, so a map of agreements by county needs no join
    places.county_fips,
    agreements.support_model,
    agreements.signed_date,
    agreements.moa_url,
    agreements.first_listed_date,
    -- empty while active: a line changes when the agreement does, not each time a list comes out
    case
        when agreements.last_sequence < {{ newest_sequence('participating') }} then agreements.last_listed_date
    end as last_listed_date,
    case
        when agreements.last_sequence = {{ newest_sequence('participating') }} then 'active'
        when successors.superseded_by is not null then 'superseded'
        else 'removed'
    end as status,
    case
        when agreements.last_sequence < {{ newest_sequence('participating') }} then successors.superseded_by
    end as superseded_by,
    cast(periods.period_count as integer) as period_count,
    agreements.signed_dates_listed,
    agreements.is_redated,
    agreements.agency_ids_listed
from agreements
inner join periods on agreements.agreement_id = periods.agreement_id
left join successors on agreements.agreement_id = successors.agreement_id
left join {{ ref('int_agency_geography') }} as places on agreements.agency_id = places.agency_id
