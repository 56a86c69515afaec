-- One row per spelling ICE used for an agency (a state and a canonical name), with when and how
-- often it was listed and the keys the merge rules compare (int_agency_spelling_pairs).
with listings as (
    select
        state_code,
        canonical_name,
        published_date
    from {{ ref('int_listings_state_reassigned') }}
    where state_code is not null and canonical_name is not null
),

spellings as (
    select
        state_code,
        canonical_name,
        min(published_date) as first_listed_date,
        max(published_date) as last_listed_date,
        count(*) as listing_count
    from listings
    group by state_code, canonical_name
),

states as (
    -- the state's name and code as canonical names spell them ("virgin islands"; CO is "county")
    select
        state_code,
        {{ canonical_agency_name('state_name') }} as name_key,
        {{ canonical_agency_name('lower(state_code)') }} as code_key
    from {{ ref('stg_census__states') }}
)

select
    spellings.*,
    {{ agency_match_key('spellings.canonical_name', 'states.name_key', 'states.code_key') }} as match_key,
    {{ agency_kind('spellings.canonical_name') }} as agency_kind
from spellings
left join states on spellings.state_code = states.state_code
