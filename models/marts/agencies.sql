-- One row per law-enforcement agency across all eras.
with newest as (
    select
        {{ newest_sequence('participating') }} as participating,
        {{ newest_sequence('pending') }} as pending
),

agencies as (
    select
        agency_id,
        min(published_date) as first_listed_date,
        max(published_date) as last_listed_date,
        bool_or(list = 'participating' and sequence = (select newest.participating from newest)) as is_participating,
        bool_or(list = 'pending' and sequence = (select newest.pending from newest)) as is_pending,
        cast(count(distinct agency_name) as integer) as name_variant_count,
        string_agg(distinct agency_name, ' | ' order by agency_name) as names_listed
    from {{ ref('int_listings_identified') }}
    where agency_id is not null
    group by agency_id
)

select
    agencies.agency_id,
    -- the latest name, type and county, as the geography rules read them
    profiles.state_code,
    profiles.agency_name,
    profiles.agency_type,
    profiles.county_name,
    agencies.first_listed_date,
    agencies.is_participating,
    agencies.name_variant_count,
    agencies.names_listed,
    places.state_fips,
    places.county_fips,
    places.county_match,
    places.ori,
    places.ori_match,
    places.population_served,
    places.sworn_officers,
    places.fbi_data_year,
    places.geography_kind as government_level,
    places.agency_kind,
    -- empty while on a newest list: a line changes when the agency does, not each time a list comes out
    case when not (agencies.is_participating or agencies.is_pending) then agencies.last_listed_date end
        as last_listed_date,
    cast((
        select count(*) from {{ ref('agreements') }} as a
        where a.agency_id = agencies.agency_id
    ) as integer)
        as agreement_count,
    cast((
        select count(*) from {{ ref('applications') }} as p
        where p.agency_id = agencies.agency_id
    ) as integer)
        as application_count
from agencies
inner join {{ ref('int_agency_geography') }} as places on agencies.agency_id = places.agency_id
inner join {{ ref('int_agency_profiles') }} as profiles on agencies.agency_id = profiles.agency_id
