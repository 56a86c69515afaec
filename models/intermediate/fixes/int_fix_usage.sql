-- One row per reviewed fix (a row of a seeds/fix_*.csv table or agency_types.csv) with how many
-- raw rows or files it matched in this build. A fix matching nothing in the project's own archive
-- is stale: the build stops, naming it (ice287g.pipeline.build).
{%- set value_fixes = [
    ('fix_state_names', 'published_state', 'listing_rows.state_name'),
    ('fix_support_types', 'published_support_type', 'listing_rows.support_type_name'),
    ('agency_types', 'published_agency_type', 'listing_rows.agency_type_name'),
    ('fix_signed_dates', 'published_signed_date', 'trim(listing_rows.signed_published)'),
] %}
with listing_rows as (
    select * from {{ ref('int_listing_rows') }}
),

files as (
    select * from {{ ref('stg_raw__files') }}
)

{% for fix_table, fixed_column, matched in value_fixes -%}
    select
        '{{ fix_table }}' as fix_table,
        fixes.{{ fixed_column }} as fixed_value,
        fixes.reason,
        (
            select count(*) from listing_rows
            where {{ matched }} = fixes.{{ fixed_column }}
        ) as match_count
    from {{ ref(fix_table) }} as fixes
    union all
{% endfor -%}
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
union all
select
    'fix_agency_geography' as fix_table,
    fixes.state_code || ': ' || fixes.published_name as fixed_value,
    fixes.reason,
    count(fixes.agency_id) as match_count
from {{ ref('int_agency_geography_fixes') }} as fixes
group by all
