-- One row per data row of a participating or pending list sheet, with published values mapped
-- to codes through the reviewed lookup seeds. Unmapped values stay null and are flagged.
with rows as (
    select * from {{ ref('stg_raw__rows') }}
),

sheets as (
    select * from {{ ref('stg_raw__sheets') }}
    where is_list_sheet
),

files as (
    select
        file_sha256,
        archived_at
    from {{ ref('stg_raw__files') }}
),

states as (
    select
        state_code,
        upper(state_name) as lookup_name,
        'canonical' as state_rule
    from {{ ref('stg_census__states') }}
    union all
    select
        state_code,
        published_state as lookup_name,
        'fix_state_names' as state_rule
    from {{ ref('fix_state_names') }}
),

support as (
    select
        support_model,
        published_name as lookup_name,
        'canonical' as support_rule
    from {{ ref('support_models') }}
    union all
    select
        support_model,
        published_support_type as lookup_name,
        'fix_support_types' as support_rule
    from {{ ref('fix_support_types') }}
),

mapped as (
    select
        rows.* exclude (signed_date, signed_date_method),
        sheets.sheet_list as list,
        sheets.layout,
        states.state_code,
        states.state_rule,
        support.support_model,
        support.support_rule,
        agency_types.agency_type,
        rows.signed_date as signed_date_read,
        coalesce(signed_fixes.corrected_date, rows.signed_date) as signed_date,
        case when signed_fixes.corrected_date is not null then 'fix_signed_dates' else rows.signed_date_method end
            as signed_date_method,
        cast(files.archived_at as date) as archive_date,
        rows.agency_type_name is not null and agency_types.published_agency_type is null as is_agency_type_unmapped
    from rows
    inner join sheets
        on rows.file_sha256 = sheets.file_sha256 and rows.sheet_index = sheets.sheet_index
    inner join files on rows.file_sha256 = files.file_sha256
    left join states on rows.state_name = states.lookup_name
    left join support on rows.support_type_name = support.lookup_name
    left join {{ ref('agency_types') }} as agency_types
        on rows.agency_type_name = agency_types.published_agency_type
    left join {{ ref('fix_signed_dates') }} as signed_fixes
        on
            states.state_code = signed_fixes.state_code
            and trim(rows.agency_name_published) = signed_fixes.published_name
            and trim(rows.signed_published) = signed_fixes.published_signed_date
)

select
    *,
    -- Signing dates before var program_start_date are typos; a list cannot show a signing after it was archived.
    signed_date between date '{{ var("program_start_date") }}' and archive_date as is_signed_date_plausible,
    nullif(concat_ws(
        ',',
        case when state_name is null then 'state_missing' when state_code is null then 'state_unmapped' end,
        case when state_rule = 'fix_state_names' then 'state_fixed' end,
        case
            when support_type_name is null then 'support_type_missing'
            when support_model is null then 'support_type_unmapped'
        end,
        case when support_rule = 'fix_support_types' then 'support_type_fixed' end,
        case when is_agency_type_unmapped then 'agency_type_unmapped' end,
        case
            when list = 'participating' and signed_published is null then 'signed_date_missing'
            when signed_published is not null and signed_date is null then 'signed_date_unreadable'
            when
                signed_date is not null
                and not (signed_date between date '{{ var("program_start_date") }}' and archive_date)
                then 'signed_date_impossible'
        end,
        case when signed_date_method = 'fix_signed_dates' then 'signed_date_fixed' end,
        case when signed_date_method = 'us_text_missing_slash' then 'signed_date_repaired' end,
        -- published verbatim, so flagged: a reader's terminal or spreadsheet would act on them
        case
            when regexp_matches(
                concat_ws(
                    ' ', state_published, agency_name_published, agency_type_published, county_published,
                    support_type_published, signed_published, moa_published, moa_link_published,
                    addendum_published, addendum_link_published
                ),
                '{{ acting_characters() }}'
            ) then 'control_characters'
        end
    ), '') as row_flags
from mapped
