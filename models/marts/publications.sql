-- One row per distinct list ICE published.
with snapshots as (
    select
        publications.publication_id,
        publications.is_first_snapshot,
        snapshots.*
    from {{ ref('int_snapshot_publications') }} as publications
    inner join {{ ref('int_snapshots') }} as snapshots
        on publications.file_sha256 = snapshots.file_sha256
),

listed as (
    select
        publication_id,
        count(distinct agreement_id) as agreement_count,
        count(distinct application_id) as application_count,
        count(distinct state_code) as state_count
    from {{ ref('int_listings_linked') }}
    group by publication_id
)

select
    publications.publication_id,
    publications.list,
    publications.published_date,
    publications.published_slot,
    cast(publications.sequence as integer) as sequence,
    cast(firsts.row_count as integer) as row_count,
    -- each count is empty on the other list, where it does not apply
    case
        when publications.list = 'participating' then cast(coalesce(listed.agreement_count, 0) as integer)
    end as agreement_count,
    case
        when publications.list = 'pending' then cast(coalesce(listed.application_count, 0) as integer)
    end as application_count,
    cast(coalesce(listed.state_count, 0) as integer) as state_count,
    min(coalesce(snapshots.captured_at, snapshots.archived_at)) as first_captured_at,
    cast(count(*) as integer) as snapshot_count,
    firsts.newest_signed_date,
    firsts.layout,
    publications.content_hash,
    lineage.is_in_lineage,
    lineage.lineage_flags as flags
from {{ ref('int_snapshot_publications') }} as publications
inner join {{ ref('int_lineage_publications') }} as lineage on publications.publication_id = lineage.publication_id
inner join snapshots on publications.file_sha256 = snapshots.file_sha256
inner join snapshots as firsts
    on publications.publication_id = firsts.publication_id and firsts.is_first_snapshot
left join listed on publications.publication_id = listed.publication_id
group by all
