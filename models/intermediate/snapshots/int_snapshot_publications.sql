-- One row per snapshot with the publication it belongs to: snapshots of one list in time order,
-- where a run of consecutive snapshots with the same normalised content is one publication.
with ordered as (
    select
        *,
        row_number() over (
            partition by list
            order by published_date, slot_rank nulls last, captured_at nulls last, archived_at, file_name, file_sha256
        ) as snapshot_order
    from {{ ref('int_snapshots') }}
),

runs as (
    select
        *,
        case
            when content_hash = lag(content_hash) over (partition by list order by snapshot_order) then 0
            else 1
        end as starts_publication
    from ordered
),

numbered as (
    select
        *,
        sum(starts_publication) over (partition by list order by snapshot_order) as sequence
    from runs
),

firsts as (
    select
        list,
        sequence,
        published_date,
        claimed_slot as published_slot,
        content_hash
    from numbered
    where starts_publication = 1
)

select
    numbered.file_sha256,
    numbered.snapshot_order,
    numbered.starts_publication = 1 as is_first_snapshot,
    firsts.list,
    firsts.sequence,
    firsts.published_date,
    firsts.published_slot,
    firsts.content_hash,
    firsts.list || '-' || strftime(firsts.published_date, '%Y-%m-%d')
    || coalesce('-' || firsts.published_slot, '') || '-' || left(firsts.content_hash, 8) as publication_id
from numbered
inner join firsts on numbered.list = firsts.list and numbered.sequence = firsts.sequence
