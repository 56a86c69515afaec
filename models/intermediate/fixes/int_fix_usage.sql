-- One row per reviewed fix (a row of a seeds/fix_*.csv table or agency_types.csv) with how many
-- raw rows, files or agencies it was applied to in this build, as the model that applies it
-- reports: a row of int_listing_rows whose rule names the fix (state_rule, support_rule,
-- signed_date_method; for agency_types, a type not unmapped), a snapshot of int_snapshots with a
-- fixed name date, a listing of the spelling a name fix merges, an agency whose ORI or county is
-- the fix's (ori_match, county_match reviewed_fix). A fix applied to nothing in the project's own
-- archive is stale: the build stops, naming it (ice287g.pipeline.build).
{%- set value_fixes = [
    ('fix_state_names', 'fixes.published_state', 'state_name', "state_rule = 'fix_state_names'"),
    ('fix_support_types', 'fixes.published_support_type', 'support_type_name', "support_rule = 'fix_support_types'"),
    ('agency_types', 'fixes.published_agency_type', 'agency_type_name', 'not is_agency_type_unmapped'),
    (
        'fix_signed_dates',
        "concat_ws(': ', fixes.state_code, fixes.published_name, fixes.published_signed_date)",
        "concat_ws(': ', state_code, trim(agency_name_published), trim(signed_published))",
        "signed_date_method = 'fix_signed_dates'",
    ),
] %}
with listing_rows as (
    select * from {{ ref('int_listing_rows') }}
),

snapshots as (
    select * from {{ ref('int_snapshots') }}
    where fixed_name_date is not null
),

reviewed_geography as (
    select agency_id from {{ ref('int_agency_oris') }}
    where ori_match = 'reviewed_fix'
    union
    select agency_id from {{ ref('int_agency_counties') }}
    where county_match = 'reviewed_fix'
)

{% for fix_table, fixed_column, matched, applied in value_fixes -%}
    select
        '{{ fix_table }}' as fix_table,
        {{ fixed_column }} as fixed_value,
        fixes.reason,
        (
            select count(*) from listing_rows
            where {{ applied }} and {{ matched }} = {{ fixed_column }}
        ) as match_count
    from {{ ref(fix_table) }} as fixes
    union all
{% endfor -%}
select
    'fix_snapshot_dates' as fix_table,
    fixes.file_name as fixed_value,
    fixes.reason,
    (
        select count(*) from snapshots
        where snapshots.file_name = fixes.file_name and snapshots.claimed_date_text = fixes.claimed_date_text
    ) as match_count
from {{ ref('fix_snapshot_dates') }} as fixes
union all
select
    'fix_agency_names' as fix_table,
    fixes.state_code || ': ' || fixes.published_name as fixed_value,
    fixes.reason,
    (
        select count(*) from {{ ref('int_listings_state_reassigned') }} as listings
        where
            listings.state_code = fixes.state_code
            and listings.canonical_name = {{ canonical_agency_name('fixes.published_name') }}
    ) as match_count
from {{ ref('fix_agency_names') }} as fixes
union all
select
    'fix_listing_agencies' as fix_table,
    concat_ws(': ', fixes.state_code, fixes.published_name, fixes.published_signed_date) as fixed_value,
    fixes.reason,
    (
        select count(*) from {{ ref('int_listings_keyed') }} as listings
        where
            listings.state_code = fixes.state_code
            and trim(listings.agency_name_published) = fixes.published_name
            and trim(listings.signed_published) = fixes.published_signed_date
            and listings.published_date between fixes.first_published_date and fixes.last_published_date
    ) as match_count
from {{ ref('fix_listing_agencies') }} as fixes
union all
select
    'agency_pair_verdicts' as fix_table,
    concat_ws(': ', verdicts.state_code, verdicts.name_a, verdicts.name_b) as fixed_value,
    verdicts.reason,
    (
        select count(*) from {{ ref('int_agency_review_pairs') }} as pairs
        where
            pairs.state_code = verdicts.state_code
            and pairs.name_a = verdicts.name_a
            and pairs.name_b = verdicts.name_b
    ) as match_count
from {{ ref('agency_pair_verdicts') }} as verdicts
union all
select
    'fix_agency_geography' as fix_table,
    fixes.state_code || ': ' || fixes.published_name as fixed_value,
    fixes.reason,
    count(reviewed_geography.agency_id) as match_count
from {{ ref('int_agency_geography_fixes') }} as fixes
left join reviewed_geography on fixes.agency_id = reviewed_geography.agency_id
group by all
