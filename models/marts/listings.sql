-- One row per span of a listed row: the same row content (every published and cleaned value)
-- on consecutive publications of one list. A new publication appends the rows that are new and
-- closes the spans of rows that left; no other line changes. A publication that lists one row
-- twice has two spans (occurrence 1 and 2). The rows of publication P are the spans with
-- first sequence <= P's sequence and, unless still open, last sequence >= it.
{%- set content = [
    'agency_id', 'agreement_id', 'application_id', 'state_code', 'support_model', 'agency_type',
    'county_name', 'signed_date', 'moa_url', 'addendum_url', 'state_published', 'agency_name_published',
    'agency_type_published', 'county_published', 'support_type_published', 'signed_published',
    'moa_published', 'moa_link_published', 'addendum_link_published', 'row_flags'
] %}
with rows_listed as (
    select
        *,
        row_number() over (
            partition by publication_id, {{ content | join(', ') }} order by row_number
        ) as occurrence
    from {{ ref('int_listings_linked') }}
),

islands as (
    select
        *,
        publication_sequence - dense_rank() over (
            partition by list, occurrence, {{ content | join(', ') }} order by publication_sequence
        ) as island
    from rows_listed
),

spans as (
    select
        list,
        occurrence,
        {{ content | join(',\n        ') }},
        arg_min(publication_id, publication_sequence) as first_publication_id,
        min(published_date) as first_listed_date,
        arg_min(row_number, publication_sequence) as row_number,
        arg_max(publication_id, publication_sequence) as last_publication_id,
        max(published_date) as last_listed_date,
        max(publication_sequence) as last_sequence
    from islands
    group by list, occurrence, island, {{ content | join(', ') }}
),

newest as (
    select
        list,
        max(sequence) as sequence
    from {{ ref('int_snapshot_publications') }}
    group by list
)

select
    spans.first_publication_id || '#' || spans.row_number as listing_id,
    spans.list,
    spans.first_publication_id,
    spans.first_listed_date,
    case when spans.last_sequence < newest.sequence then spans.last_publication_id end as last_publication_id,
    case when spans.last_sequence < newest.sequence then spans.last_listed_date end as last_listed_date,
    cast(spans.row_number as integer) as row_number,
    cast(spans.occurrence as integer) as occurrence,
    spans.{{ content | join(',\n    spans.') }}
from spans
inner join newest on spans.list = newest.list
