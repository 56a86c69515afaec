-- One row per agreement and period of continuous listing: a run of consecutive participating
-- publications (in lineage order, see int_lineage_publications) that all listed the agreement,
-- with its first and last lineage sequence and the list after it (none while still listed).
with listed as (
    select distinct
        versions.agreement_id,
        listings.sequence
    from {{ ref('int_listings_identified') }} as listings
    inner join {{ ref('int_agreement_versions') }} as versions on listings.version_key = versions.version_key
    where listings.list = 'participating' and listings.sequence is not null
),

lineage as (
    select
        lineage_sequence,
        publication_id,
        published_date
    from {{ ref('int_lineage_publications') }}
    where list = 'participating' and is_in_lineage
),

islands as (
    select
        agreement_id,
        sequence,
        sequence - row_number() over (partition by agreement_id order by sequence) as island
    from listed
),

periods as (
    select
        agreement_id,
        min(sequence) as first_sequence,
        max(sequence) as last_sequence
    from islands
    group by agreement_id, island
)

select
    periods.agreement_id,
    cast(row_number() over (partition by periods.agreement_id order by periods.first_sequence) as integer)
        as period_number,
    first_list.publication_id as first_publication_id,
    first_list.published_date as first_listed_date,
    last_list.publication_id as last_publication_id,
    last_list.published_date as last_listed_date,
    next_list.publication_id as delisted_publication_id,
    next_list.published_date as delisted_date,
    periods.first_sequence,
    periods.last_sequence
from periods
inner join lineage as first_list on periods.first_sequence = first_list.lineage_sequence
inner join lineage as last_list on periods.last_sequence = last_list.lineage_sequence
left join lineage as next_list on periods.last_sequence + 1 = next_list.lineage_sequence
