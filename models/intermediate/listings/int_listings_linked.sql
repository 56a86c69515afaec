-- One row per data row of every publication, with the agency, agreement or application it lists
-- and the values as published beside the cleaned ones. The published listings mart folds these
-- into spans; counts and publications count them per publication. signed_date_read and
-- canonical_name_read are the date and name before any reviewed fix, which the errata rules read.
with listings as (
    select * from {{ ref('int_listings_identified') }}
),

agreements as (
    select
        version_key,
        agreement_id
    from {{ ref('int_agreement_versions') }}
),

applications as (
    select * from {{ ref('int_applications') }}
)

select
    listings.publication_id || '#' || listings.row_number as publication_row_id,
    listings.publication_id,
    listings.publication_sequence,
    listings.row_number,
    listings.list,
    listings.published_date,
    listings.agency_id,
    agreements.agreement_id,
    applications.application_id,
    listings.state_code,
    listings.support_model,
    listings.agency_type,
    listings.county_name,
    listings.signed_date,
    listings.signed_date_read,
    listings.canonical_name_read,
    listings.moa_url,
    listings.addendum_url,
    listings.state_published,
    listings.agency_name_published,
    listings.agency_type_published,
    listings.county_published,
    listings.support_type_published,
    listings.signed_published,
    listings.moa_published,
    listings.moa_link_published,
    listings.addendum_link_published,
    listings.row_flags
from listings
left join agreements on listings.version_key = agreements.version_key
left join applications
    on
        listings.list = 'pending'
        and listings.agency_id = applications.agency_id
        and coalesce(listings.support_model, 'unknown') = applications.support_model
        and listings.published_date between applications.first_listed_date and applications.last_listed_date
