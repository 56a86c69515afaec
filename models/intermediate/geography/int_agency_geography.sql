-- One row per agency (agency_id of int_agency_spellings_resolved and of the agencies mart), with its state's
-- and county's FIPS codes (int_agency_counties), its FBI ORI (int_agency_oris) and that ORI's
-- population served, sworn officers and data year from the FBI roster, and the kind of body it
-- is (geography_kind, int_agency_profiles), which decides the rules and the match rates reported.
select
    profiles.agency_id,
    profiles.state_code,
    states.state_fips,
    counties.county_fips,
    counties.county_match,
    oris.ori,
    oris.ori_match,
    fbi.population_served,
    fbi.sworn_officers,
    fbi.data_year as fbi_data_year,
    profiles.geography_kind,
    profiles.agency_kind
from {{ ref('int_agency_profiles') }} as profiles
inner join {{ ref('int_agency_counties') }} as counties on profiles.agency_id = counties.agency_id
inner join {{ ref('int_agency_oris') }} as oris on profiles.agency_id = oris.agency_id
left join {{ ref('int_fbi_agencies') }} as fbi on oris.ori = fbi.ori
left join {{ ref('stg_census__states') }} as states on profiles.state_code = states.state_code
