-- One row per registered snapshot file: registry text cast to types.
select
    file_sha256,
    file_name,
    bytes as file_bytes,
    nullif(claimed_list, '') as claimed_list,
    try_cast(nullif(claimed_date, '') as date) as claimed_date,
    nullif(claimed_date_text, '') as claimed_date_text,
    nullif(claimed_slot, '') as claimed_slot,
    cast(nullif(captured_at, '') as timestamp) as captured_at,
    nullif(archive, '') as archive,
    nullif(archive_commit, '') as archive_commit,
    nullif(archive_path, '') as archive_path,
    cast(nullif(archived_at, '') as timestamp) as archived_at,
    nullif(url, '') as source_url,
    nullif(mirror_path, '') as mirror_path
from {{ source('raw', 'raw_files') }}
