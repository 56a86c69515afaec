-- One row per publication with whether it takes part in identity and lineage, and why not.
-- Lineage (who joined, who left, runs of presence) is read from publications in order; two
-- kinds of capture would invent events there, so they are kept out and flagged:
--   * header_only: a list with no data rows (the pending list of November 2025 came out six
--     times as a bare header between lists of a few rows);
--   * corrupted_row: a capture whose previous and next publications of the same list are
--     identical to each other while it differs from them in exactly one row, replaced by a row
--     naming a county that does not exist in its state (a damaged archive copy: one phantom
--     agency, one phantom removal, one false gap). The row itself is flagged in int_listings_keyed.
-- Publications kept out still appear in every published table, with their flags.
with publications as (
    select
        file_sha256,
        publication_id,
        list,
        sequence,
        published_date,
        content_hash
    from {{ ref('int_snapshot_publications') }}
    where is_first_snapshot
),

listed_rows as (
    select
        publications.publication_id,
        listing_rows.row_number,
        listing_rows.state_code,
        listing_rows.county_name,
        listing_rows.agency_name,
        {{ listing_content() }} as row_content
    from {{ ref('int_listing_rows') }} as listing_rows
    inner join publications on listing_rows.file_sha256 = publications.file_sha256
),

neighbours as (
    select
        publications.*,
        lag(publication_id) over by_sequence as previous_publication_id,
        lag(content_hash) over by_sequence as previous_content_hash,
        lead(content_hash) over by_sequence as next_content_hash,
        (
            select count(*) from listed_rows
            where listed_rows.publication_id = publications.publication_id
        ) as row_count
    from publications
    window by_sequence as (partition by list order by sequence)
),

-- Each row's count in this publication minus its count in the previous one.
row_changes as (
    select
        publication_id,
        row_content,
        sum(row_change) as row_change,
        min(row_number) filter (where row_change > 0) as row_number
    from (
        select
            listed_rows.publication_id,
            listed_rows.row_content,
            listed_rows.row_number,
            1 as row_change
        from listed_rows
        union all
        select
            neighbours.publication_id,
            listed_rows.row_content,
            null as row_number,
            -1 as row_change
        from neighbours
        inner join listed_rows on neighbours.previous_publication_id = listed_rows.publication_id
    ) as both_lists
    group by publication_id, row_content
),

flickers as (
    -- publications that replace exactly one row of an identical previous and next list
    select
        row_changes.publication_id,
        arg_max(row_changes.row_number, row_changes.row_change) as row_number
    from row_changes
    inner join neighbours on row_changes.publication_id = neighbours.publication_id
    where
        neighbours.previous_content_hash = neighbours.next_content_hash
        and neighbours.content_hash <> neighbours.previous_content_hash
    group by row_changes.publication_id
    having
        sum(row_changes.row_change) filter (where row_changes.row_change > 0) = 1
        and sum(row_changes.row_change) filter (where row_changes.row_change < 0) = -1
),

corrupted as (
    select
        flickers.publication_id,
        flickers.row_number
    from flickers
    inner join listed_rows
        on flickers.publication_id = listed_rows.publication_id and flickers.row_number = listed_rows.row_number
    where not {{ names_known_county('listed_rows.state_code', 'listed_rows.county_name', 'listed_rows.agency_name') }}
),

flagged as (
    select
        neighbours.*,
        corrupted.row_number as corrupted_row_number,
        nullif(concat_ws(
            ',',
            case when neighbours.row_count = 0 then 'header_only' end,
            case when corrupted.publication_id is not null then 'corrupted_row' end
        ), '') as lineage_flags
    from neighbours
    left join corrupted on neighbours.publication_id = corrupted.publication_id
)

select
    publication_id,
    list,
    sequence,
    published_date,
    row_count,
    lineage_flags,
    corrupted_row_number,
    lineage_flags is null as is_in_lineage,
    case
        when lineage_flags is null
            then row_number() over (partition by list, lineage_flags is null order by sequence)
    end as lineage_sequence
from flagged
