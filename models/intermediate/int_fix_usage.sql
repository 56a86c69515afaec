-- One row per reviewed fix (a row of a seeds/fix_*.csv table or agency_types.csv) with how many
-- raw rows or files it matched in this build. A fix matching nothing is stale: the build warns.
with listing_rows as (
    select * from {{ ref('int_listing_rows') }}
),

files as (
    select * from {{ ref('stg_raw__files') }}
)

select
    'fix_state_names' as fix_table,
    fixes.published_state as fixed_value,
    fixes.reason,
    (
        select count(*) from listing_rows
        where listing_rows.state_name = fixes.published_state
    ) as match_count
from {{ ref('fix_state_names') }} as fixes
union all
select
    'fix_support_types' as fix_table,
    fixes.published_support_type as fixed_value,
    fixes.reason,
    (
        select count(*) from listing_rows
        where listing_rows.support_type_name = fixes.published_support_type
    ) as match_count
from {{ ref('fix_support_types') }} as fixes
union all
select
    'agency_types' as fix_table,
    fixes.published_agency_type as fixed_value,
    fixes.reason,
    (
        select count(*) from listing_rows
        where listing_rows.agency_type_name = fixes.published_agency_type
    ) as match_count
from {{ ref('agency_types') }} as fixes
union all
select
    'fix_signed_dates' as fix_table,
    fixes.published_signed_date as fixed_value,
    fixes.reason,
    (
        select count(*) from listing_rows
        where trim(listing_rows.signed_published) = fixes.published_signed_date
    ) as match_count
from {{ ref('fix_signed_dates') }} as fixes
union all
select
    'fix_snapshot_dates' as fix_table,
    fixes.file_name as fixed_value,
    fixes.reason,
    (
        select count(*) from files
        where files.file_name = fixes.file_name and files.claimed_date_text = fixes.claimed_date_text
    ) as match_count
from {{ ref('fix_snapshot_dates') }} as fixes
union all
select
    'fix_agency_names' as fix_table,
    fixes.state_code || ': ' || fixes.published_name as fixed_value,
    fixes.reason,
    (
        select count(*) from {{ ref('int_listings') }} as listings
        where
            listings.state_code = fixes.state_code
            and listings.canonical_name = {{ canonical_agency_name('fixes.published_name') }}
    ) as match_count
from {{ ref('fix_agency_names') }} as fixes
