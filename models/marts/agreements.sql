-- One row per signed agreement (agency, support model, signing date), through re-dating and
-- re-attribution (int_agreement_run_links decides which listed versions are one agreement; its
-- status is int_agreement_statuses' decision).
with periods as (
    select
        agreement_id,
        count(*) as period_count
    from {{ ref('int_agreement_periods') }}
    group by agreement_id
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
        when statuses.status <> 'active' then agreements.last_listed_date
    end as last_listed_date,
    statuses.status,
    statuses.superseded_by,
    cast(periods.period_count as integer) as period_count,
    agreements.signed_dates_listed,
    agreements.is_redated,
    agreements.agency_ids_listed
from {{ ref('int_agreements') }} as agreements
inner join {{ ref('int_agreement_statuses') }} as statuses on agreements.agreement_id = statuses.agreement_id
inner join periods on agreements.agreement_id = periods.agreement_id
left join {{ ref('int_agency_geography') }} as places on agreements.agency_id = places.agency_id
