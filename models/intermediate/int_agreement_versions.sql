-- One row per version of an agreement as listed: agency, support model and signing date, with
-- the span of participating publications that listed it and the MOA documents they linked.
select
    version_key,
    agency_id,
    any_value(state_code) as state_code,
    coalesce(support_model, 'unknown') as support_model,
    signed_date,
    min(sequence) as first_sequence,
    max(sequence) as last_sequence,
    count(distinct sequence) as publication_count,
    min(published_date) as first_listed_date,
    max(published_date) as last_listed_date,
    coalesce(
        list(distinct moa_document order by moa_document) filter (where moa_document is not null), []::varchar[]
    ) as moa_documents,
    arg_max(moa_url, struct_pack(s := sequence, r := -row_number)) filter (where moa_url is not null) as moa_url,
    string_agg(distinct signed_published, ' | ' order by signed_published) as signed_published_variants
from {{ ref('int_listing_identities') }}
where list = 'participating' and agency_id is not null
group by version_key, agency_id, coalesce(support_model, 'unknown'), signed_date
