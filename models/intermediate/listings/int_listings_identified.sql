-- One row per listing (data row of a publication) with the agency it names and the version of
-- an agreement (agency, model, signing date) or the application (agency, model) it lists.
select
    listings.*,
    spellings.agency_id,
    case
        when listings.list = 'participating'
            then concat_ws(
                '|', spellings.agency_id, coalesce(listings.support_model, 'unknown'),
                coalesce(cast(listings.signed_date as varchar), 'undated')
            )
    end as version_key
from {{ ref('int_listings_state_reassigned') }} as listings
left join {{ ref('int_agency_spellings_resolved') }} as spellings
    on listings.state_code = spellings.state_code and listings.canonical_name = spellings.canonical_name
