-- No agency takes a county or an ORI of another state, unless a reviewed fix says why
-- (seeds/fix_agency_geography.csv).
select
    agencies.agency_id,
    agencies.state_code,
    agencies.county_fips,
    agencies.ori,
    fbi.state_code as ori_state_code
from {{ ref('int_agency_geography') }} as agencies
left join {{ ref('stg_fbi__employees') }} as fbi on agencies.ori = fbi.ori
where
    (agencies.county_match <> 'reviewed_fix' and left(agencies.county_fips, 2) <> agencies.state_fips)
    or (
        agencies.ori_match <> 'reviewed_fix'
        and fbi.state_code is distinct from agencies.state_code
        and agencies.ori is not null
    )
