-- One row per state, DC or territory (USPS code). The Census file lists a few under several
-- names ("District of Columbia" and "D.C.", "Rhode Island" and "Rhode Island and Providence
-- Plantations"); the name kept is the shortest without an abbreviation point.
select
    postal as state_code,
    first(name order by contains(name, '.'), length(name), name) as state_name,
    fips as state_fips
from {{ source('census', 'raw_census_states') }}
group by postal, fips
