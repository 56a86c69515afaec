-- One row per agency ORI in the FBI's Law Enforcement Employees roster: typed and renamed, 'NULL'
-- (the file's unknown) as null, the FBI's own state codes (NB Nebraska, GM Guam) as USPS codes
-- and FS (federal agencies) as no state. The county text stays as published: upper case, several
-- counties comma-separated ("JEFFERSON, SHELBY").
with employees as (
    select
        nullif(trim(ori), 'NULL') as ori,
        nullif(trim(data_year), 'NULL') as data_year,
        nullif(trim(pub_agency_name), 'NULL') as pub_agency_name,
        nullif(trim(state_abbr), 'NULL') as state_abbr,
        nullif(trim(county_name), 'NULL') as county_name,
        nullif(trim(agency_type_name), 'NULL') as agency_type_name,
        nullif(trim(population), 'NULL') as population,
        nullif(trim(officer_ct), 'NULL') as officer_ct,
        nullif(trim(civilian_ct), 'NULL') as civilian_ct
    from {{ source('fbi', 'raw_fbi_employees') }}
)

select
    ori,
    {{ clean_text('pub_agency_name') }} as agency_name,
    case state_abbr
        when 'NB' then 'NE'
        when 'GM' then 'GU'
        when 'FS' then null
        else state_abbr
    end as state_code,
    state_abbr,
    {{ clean_text('county_name') }} as county_names,
    agency_type_name as fbi_agency_type,
    try_cast(population as bigint) as population_served,
    try_cast(officer_ct as integer) as sworn_officers,
    try_cast(civilian_ct as integer) as civilians,
    try_cast(data_year as integer) as data_year
from employees
