-- One row per registered raw file.
select
    left(snapshots.file_sha256, 16) as snapshot_id,
    snapshots.file_sha256,
    snapshots.file_name,
    snapshots.list,
    publications.publication_id,
    snapshots.published_date,
    snapshots.published_date_source,
    snapshots.captured_at,
    snapshots.archived_at,
    snapshots.archive,
    snapshots.source_url,
    cast(snapshots.row_count as integer) as row_count,
    snapshots.layout,
    snapshots.newest_signed_date,
    snapshots.claimed_list,
    snapshots.claimed_date,
    snapshots.claimed_slot,
    publications.is_first_snapshot,
    snapshots.file_bytes,
    snapshots.content_hash,
    snapshots.flags
from {{ ref('int_snapshots') }} as snapshots
inner join {{ ref('int_snapshot_publications') }} as publications
    on snapshots.file_sha256 = publications.file_sha256
