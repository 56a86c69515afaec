-- One row per publication, state and support model: the time series of listed rows.
-- state_code and support_model are key columns, which cannot be empty: rows whose state could not
-- be mapped or whose list named no model are counted under 'unknown' (the schema says so).
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
