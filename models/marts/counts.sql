-- One row per publication, state and support model: the time series of listed rows.
select
    publications.publication_id,
    publications.list,
    publications.published_date,
    coalesce(listings.state_code, 'unknown') as state_code,
    coalesce(listings.support_model, 'unknown') as support_model,
    cast(count(*) as integer) as count
from {{ ref('int_publication_listings') }} as listings
inner join {{ ref('publications') }} as publications
    on listings.publication_id = publications.publication_id
group by all
