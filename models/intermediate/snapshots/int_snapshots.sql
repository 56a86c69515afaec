-- One row per registered file: what its contents say it is (list, layout, rows, newest signing
-- date, normalised content hash), its publication date resolved from name, capture and archive
-- evidence in that order, and a flag for every claim of its name that the contents contradict.
with files as (
    select * from {{ ref('stg_raw__files') }}
),

sheets as (
    select
        file_sha256,
        count(*) as sheet_count,
        string_agg(distinct case when is_list_sheet then sheet_list end, ',') as list,
        string_agg(distinct case when is_list_sheet then layout end, ',') as layout,
        sum(case when is_list_sheet then data_row_count else 0 end) as row_count
    from {{ ref('stg_raw__sheets') }}
    group by file_sha256
),

contents as (
    select
        file_sha256,
        max(case when is_signed_date_plausible then signed_date end) as newest_signed_date,
        -- Row order matters: the same rows re-sorted are a different table. Wayback prefixes
        -- and whitespace do not: they were stripped in staging.
        md5(string_agg({{ listing_content() }}, chr(10) order by row_number)) as content_hash
    from {{ ref('int_listing_rows') }}
    group by file_sha256
),

date_fixes as (
    select * from {{ ref('fix_snapshot_dates') }}
),

evidence as (
    select
        files.*,
        sheets.sheet_count,
        sheets.list,
        sheets.layout,
        sheets.row_count,
        contents.newest_signed_date,
        coalesce(contents.content_hash, md5('')) as content_hash,
        date_fixes.corrected_date as fixed_name_date,
        date_fixes.reason as date_fix_reason,
        coalesce(date_fixes.corrected_date, files.claimed_date) as name_date,
        cast(files.captured_at as date) as capture_date,
        cast(files.archived_at as date) as archive_date
    from files
    left join sheets on files.file_sha256 = sheets.file_sha256
    left join contents on files.file_sha256 = contents.file_sha256
    left join date_fixes
        on
            files.file_name = date_fixes.file_name
            and files.claimed_date_text = date_fixes.claimed_date_text
),

checked as (
    select
        *,
        -- A list cannot be published before the newest agreement it lists was signed, nor after
        -- the archive committed it.
        name_date is not null
        and (newest_signed_date is null or name_date >= newest_signed_date)
        and (archive_date is null or name_date <= archive_date) as is_name_date_consistent,
        capture_date is not null
        and (newest_signed_date is null or capture_date >= newest_signed_date) as is_capture_date_consistent
    from evidence
),

first_pass as (
    select
        *,
        case
            when is_name_date_consistent then name_date
            when is_capture_date_consistent then capture_date
        end as evidence_date,
        case
            when is_name_date_consistent and fixed_name_date is not null then 'name_fixed'
            when is_name_date_consistent then 'name'
            when is_capture_date_consistent then 'capture'
        end as evidence_source
    from checked
),

-- An archive commit is only an upper bound: a file dated by nothing else whose table equals a
-- dated snapshot of the same list is a later copy of that table and takes its date.
content_dates as (
    select
        list,
        content_hash,
        min(evidence_date) as first_dated
    from first_pass
    where evidence_date is not null
    group by list, content_hash
),

resolved as (
    select
        first_pass.*,
        coalesce(first_pass.evidence_date, content_dates.first_dated, first_pass.archive_date) as published_date,
        coalesce(
            first_pass.evidence_source,
            case when content_dates.first_dated is not null then 'content_match' end,
            'archive'
        ) as published_date_source
    from first_pass
    left join content_dates
        on first_pass.list = content_dates.list and first_pass.content_hash = content_dates.content_hash
)

select
    *,
    case claimed_slot when 'am' then 1 when 'mid' then 2 when 'pm' then 3 end as slot_rank,
    nullif(concat_ws(
        ',',
        case when claimed_list is not null and claimed_list <> list then 'name_claims_' || claimed_list || '_list' end,
        case when fixed_name_date is not null then 'name_date_fixed' end,
        case when claimed_date_text is not null and name_date is null then 'name_date_unreadable' end,
        case when name_date < newest_signed_date then 'name_date_before_newest_signing' end,
        case when name_date > archive_date then 'name_date_after_archived' end,
        case when capture_date < newest_signed_date then 'capture_before_newest_signing' end,
        case when published_date < newest_signed_date then 'published_before_newest_signing' end,
        case when published_date_source = 'content_match' then 'date_from_matching_content' end,
        case when published_date_source = 'archive' then 'date_from_archive_only' end
    ), '') as flags
from resolved
