-- One row per county name the Census publishes: FIPS codes, the name as published and its base
-- name for matching. A few counties are listed under two names (New York City's counties and
-- boroughs, renamed counties such as Shannon / Oglala Lakota, DC as "Washington").
select
    statefp as state_fips,
    statefp || countyfp as county_fips,
    name as county_name,
    {{ county_base_name('name') }} as county_base_name
from {{ source('census', 'raw_census_counties') }}
