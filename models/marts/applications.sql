-- One row per pending application (agency and model, over a run of pending lists); its outcome is
-- int_application_outcomes' decision.
select
    applications.application_id,
    applications.agency_id,
    places.county_fips,
    -- int_applications groups lists that name no model under 'unknown'; published, missing is empty
    nullif(applications.support_model, 'unknown') as support_model,
    applications.first_listed_date,
    -- empty while pending: a line changes when the application does, not each time a list comes out
    case when outcomes.outcome <> 'pending' then applications.last_listed_date end as last_listed_date,
    outcomes.outcome,
    outcomes.agreement_id,
    case
        when outcomes.outcome <> 'pending'
            then cast(applications.last_sequence - applications.first_sequence + 1 as integer)
    end as publication_span
from {{ ref('int_applications') }} as applications
inner join {{ ref('int_application_outcomes') }} as outcomes on applications.application_id = outcomes.application_id
left join {{ ref('int_agency_geography') }} as places on applications.agency_id = places.agency_id
