-- One row per listing (data row of a publication, read from the publication's first snapshot),
-- with the keys identity is read from: canonical agency name, a key for the row's agreement or
-- application (row_key), the MOA document it links, and the state as published. `sequence` is
-- the publication's place in lineage (int_lineage_publications): null for a publication kept
-- out of identity and lineage, whose rows are still listed; the corrupted row of such a capture
-- has no canonical name, so it names no agency, and is flagged corrupted_row. A row that
-- seeds/fix_listing_agencies.csv moves to another agency takes that agency's name (flagged
-- agency_fixed); canonical_name_read keeps the name as published, which the errata rules read.
with publications as (
    select
        publications.file_sha256,
        publications.publication_id,
        publications.list,
        lineage.lineage_sequence as sequence,
        publications.sequence as publication_sequence,
        publications.published_date,
        lineage.corrupted_row_number
    from {{ ref('int_snapshot_publications') }} as publications
    inner join {{ ref('int_lineage_publications') }} as lineage
        on publications.publication_id = lineage.publication_id
    where publications.is_first_snapshot
),

row_fixes as (
    select * from {{ ref('fix_listing_agencies') }}
)

select
    publications.publication_id,
    publications.sequence,
    publications.publication_sequence,
    publications.published_date,
    listing_rows.* exclude (row_flags),
    case
        when listing_rows.row_number <> coalesce(publications.corrupted_row_number, -1)
            then {{ canonical_agency_name('coalesce(row_fixes.agency_name, listing_rows.agency_name)') }}
    end as canonical_name,
    case
        when listing_rows.row_number <> coalesce(publications.corrupted_row_number, -1)
            then {{ canonical_agency_name('listing_rows.agency_name') }}
    end as canonical_name_read,
    nullif(concat_ws(
        ',',
        listing_rows.row_flags,
        case when listing_rows.row_number = publications.corrupted_row_number then 'corrupted_row' end,
        case when row_fixes.agency_name is not null then 'agency_fixed' end
    ), '') as row_flags,
    {{ document_key('listing_rows.moa_url') }} as moa_document,
    concat_ws(
        '|',
        listing_rows.list,
        coalesce(listing_rows.support_model, 'unknown'),
        case
            when
                listing_rows.list = 'participating'
                then coalesce(cast(listing_rows.signed_date as varchar), 'undated')
            else coalesce(lower(listing_rows.county_name), '')
        end
    ) as row_key
from {{ ref('int_listing_rows') }} as listing_rows
inner join publications on listing_rows.file_sha256 = publications.file_sha256
left join row_fixes
    on
        listing_rows.state_code = row_fixes.state_code
        and trim(listing_rows.agency_name_published) = row_fixes.published_name
        and trim(listing_rows.signed_published) = row_fixes.published_signed_date
        and publications.published_date between row_fixes.first_published_date and row_fixes.last_published_date
