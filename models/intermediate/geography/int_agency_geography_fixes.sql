-- One row per reviewed geography fix (seeds/fix_agency_geography.csv), with the agency it names:
-- the fix is keyed on a spelling ICE published (state and name), read through the same canonical
-- name as every listing, so that a rule change that renames an agency's id leaves it in place.
-- A fix whose spelling no list of this build carries names no agency (agency_id null: stale in
-- int_fix_usage).
with fixes as (
    select * from {{ ref('fix_agency_geography') }}
),

agency_names as (
    select * from {{ ref('int_agency_spellings_resolved') }}
)

select
    fixes.state_code,
    fixes.published_name,
    agency_names.agency_id,
    fixes.ori,
    fixes.county_fips,
    fixes.reason
from fixes
left join agency_names
    on
        fixes.state_code = agency_names.state_code
        and {{ canonical_agency_name('fixes.published_name') }} = agency_names.canonical_name
