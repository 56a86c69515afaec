-- One row per run of an agreement version: a version (agency, support model and signing date)
-- listed on consecutive participating publications of the lineage (int_lineage_publications),
-- with the MOA documents the run linked. A version missing from a list and back starts a new run.
with listed as (
    select
        version_key,
        agency_id,
        state_code,
        coalesce(support_model, 'unknown') as support_model,
        signed_date,
        sequence,
        published_date,
        row_number,
        moa_document,
        moa_url,
        signed_published
    from {{ ref('int_listings_identified') }}
    where list = 'participating' and agency_id is not null and sequence is not null
),

islands as (
    select
        *,
        sequence - dense_rank() over (partition by version_key order by sequence) as island
    from listed
),

runs as (
    select
        version_key,
        island,
        any_value(agency_id) as agency_id,
        any_value(state_code) as state_code,
        any_value(support_model) as support_model,
        any_value(signed_date) as signed_date,
        min(sequence) as first_sequence,
        max(sequence) as last_sequence,
        min(published_date) as first_listed_date,
        max(published_date) as last_listed_date,
        count(distinct sequence) as publication_count,
        coalesce(
            list(distinct moa_document order by moa_document) filter (where moa_document is not null),
            []::varchar[]
        ) as moa_documents,
        arg_max(moa_url, struct_pack(s := sequence, r := -row_number)) filter (where moa_url is not null) as moa_url,
        string_agg(distinct signed_published, ' | ' order by signed_published) as signed_published_variants
    from islands
    group by version_key, island
)

select
    version_key || '#' || (row_number() over (partition by version_key order by first_sequence))::varchar
        as run_key,
    * exclude (island)
from runs
