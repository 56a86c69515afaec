-- One row per ORI of the FBI roster in a state or territory (federal agencies have none), with
-- what kind of body it is and the keys ICE's names are compared on.
--
-- fbi_kind, from the FBI's type and name: sheriff (a name with Sheriff, else any body of type
-- County whose name has no Police / Public Safety: the FBI names a county's sheriff by the county
-- alone, "Harris"), county_police (type County named Police or Public Safety: "Fairfax County
-- Police Department"), municipal_police (type City: "Tampa" is the Tampa Police Department),
-- state (Other State Agency, State Police), university (University or College), tribal, other.
-- The FBI tells apart places of one name by a county ("Jackson Township, Butler County"): the
-- place is the part before the comma.
with employees as (
    select * from {{ ref('stg_fbi__employees') }}
    where state_code is not null
),

named as (
    select
        *,
        {{ canonical_agency_name('agency_name') }} as canonical_name,
        {{ canonical_agency_name(
            "case when regexp_matches(agency_name, '^[^,]+,\\s*[^,]+\\s+County$') "
            ~ "then regexp_extract(agency_name, '^([^,]+),', 1) else agency_name end"
        ) }} as place_canonical_name,
        -- the counties as published, one text each (several are comma-separated)
        list_filter(
            list_transform(string_split(county_names, ','), lambda c: trim(c)),
            lambda c: not {{ is_placeholder_county('c') }}
        ) as county_texts
    from employees
),

states as (
    select
        state_code,
        lower(state_name) as state_name
    from {{ ref('stg_census__states') }}
),

keyed as (
    select
        named.ori,
        named.state_code,
        named.agency_name,
        named.fbi_agency_type,
        named.county_names,
        named.county_texts,
        case
            when named.fbi_agency_type in ('Federal', 'Tribal') then lower(named.fbi_agency_type)
            when regexp_matches(named.canonical_name, '\bsheriff') then 'sheriff'
            when named.fbi_agency_type = 'County' and regexp_matches(named.canonical_name, '\b(police|public safety)\b')
                then 'county_police'
            when named.fbi_agency_type = 'County' then 'sheriff'
            when named.fbi_agency_type = 'City' then 'municipal_police'
            when named.fbi_agency_type in ('Other State Agency', 'State Police') then 'state'
            when named.fbi_agency_type = 'University or College' then 'university'
            else 'other'
        end as fbi_kind,
        named.canonical_name,
        -- a unit of a body listed under one name, one ORI each ("Harris County Constable:", "State Police:")
        ends_with(named.agency_name, ':') as is_unit,
        {{ place_name('named.place_canonical_name') }} as place_name,
        {{ words_key('named.canonical_name') }} as words_key,
        {{ words_key(place_name('named.place_canonical_name')) }} as body_key,
        states.state_name,
        named.population_served,
        named.sworn_officers,
        named.civilians,
        named.data_year
    from named
    left join states on named.state_code = states.state_code
)

select
    keyed.* exclude (state_name),
    {{ state_free_key('keyed.words_key', 'keyed.state_name', 'keyed.state_code') }} as state_free_words_key,
    {{ state_free_key('keyed.body_key', 'keyed.state_name', 'keyed.state_code') }} as state_free_body_key
from keyed
