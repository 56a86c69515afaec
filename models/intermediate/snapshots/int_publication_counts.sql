-- One row per publication, state, county and support model: how many rows that publication lists
-- there, duplicates included. The one count behind counts and county_counts. Key columns cannot be
-- empty: a row with no state, no county (its agency has none, or it names no agency) or no model
-- is counted under 'unknown'.
select
    listings.publication_id,
    listings.list,
    listings.publication_sequence as sequence,
    listings.published_date,
    coalesce(listings.state_code, 'unknown') as state_code,
    coalesce(places.county_fips, 'unknown') as county_fips,
    coalesce(listings.support_model, 'unknown') as support_model,
    cast(count(*) as integer) as count
from {{ ref('int_listings_linked') }} as listings
left join {{ ref('int_agency_geography') }} as places
    on listings.agency_id = places.agency_id
group by all
