-- One row per agency (agency_id of int_agency_spellings_resolved), with what geography matching reads from
-- ICE's lists: the latest name, type and county as the agencies mart takes them (the latest
-- listing by date, lineage sequence and row), the county a name carries, the kind of body
-- (geography_kind) and the keys its name is compared on with the FBI's.
--
-- geography_kind, in this order of rules (the name in canonical form, agency_kind from the name):
--   county     a sheriff's office or a county commission;
--   other      a constable, a university or college;
--   state      a state-level body by name (state police or patrol, highway patrol, national or
--              state guard, attorney general, state attorney, state fire marshal, bureau of
--              investigation, a name starting "State of", "Commonwealth of", CNMI, or the state's
--              own name followed by a department, office, division, board or commission);
--   other      a prosecutor; a regional or district jail (several counties' body);
--   county     a jail or corrections body with County / Parish in its name or of ICE's type county;
--   state      any other corrections body (a department of corrections);
--   other      an airport, port authority, school, university, college, transit, hospital, park
--              district or rangers, parks and recreation, any authority, task force, levee
--              district, or ward ("Port Orange", "Pinellas Park" are cities: their police are
--              municipal);
--   county     a county police ("X County Police Department", or police of ICE's type county
--              whose name says County / Parish);
--   municipal  any other police, public safety department or marshal (city, town, village,
--              township, borough and regional police);
--   municipal  a body of ICE's type municipality named "City / Town / Village of ..." or "... City";
--   state      any other body of ICE's type state_agency;
--   other      the rest.
with agencies as (
    select
        agency_id,
        any_value(state_code) as state_code,
        arg_max(agency_name, struct_pack(d := published_date, s := sequence, r := -row_number)) as agency_name,
        arg_max(agency_type, struct_pack(d := published_date, s := sequence, r := -row_number))
        filter (where agency_type is not null) as agency_type,
        -- the latest county as ICE listed it, and the latest that names one ("#NA", "N/A" name none)
        arg_max(county_name, struct_pack(d := published_date, s := sequence, r := -row_number))
        filter (where county_name is not null) as county_name,
        arg_max(county_name, struct_pack(d := published_date, s := sequence, r := -row_number))
        filter (where not {{ is_placeholder_county('county_name') }}) as listed_county_name
    from {{ ref('int_listings_identified') }}
    where agency_id is not null
    group by agency_id
),

named as (
    select
        agencies.*,
        {{ canonical_agency_name('agencies.agency_name') }} as canonical_name,
        {{ canonical_agency_name('states.state_name') }} as state_name
    from agencies
    left join {{ ref('stg_census__states') }} as states on agencies.state_code = states.state_code
),

kinds as (
    select
        named.*,
        {{ agency_kind('named.canonical_name') }} as agency_kind
    from named
),

profiled as (
    select
        agency_id,
        state_code,
        agency_name,
        agency_type,
        county_name,
        listed_county_name,
        -- the county the name carries: "County of Franklin / ...", the words up to County or Parish
        -- (or Borough in Alaska), else a sheriff's place ("Hopewell Sheriff's Office", "Richmond
        -- City Sheriff's Office": Virginia's independent cities)
        coalesce(
            nullif(regexp_extract(agency_name, '(?i)^county of ([^/,(]+?)\s*([/,(]|$)', 1), ''),
            nullif(
                case
                    when state_code = 'AK' then regexp_extract(agency_name, '(?i)^(.*?\s(county|parish|borough))\b', 1)
                    else regexp_extract(agency_name, '(?i)^(.*?\s(county|parish))\b', 1)
                end,
                ''
            ),
            case
                when agency_kind = 'sheriff' then nullif(regexp_extract(agency_name, '(?i)^(.*?)\s+sheriff', 1), '')
            end
        ) as name_county_name,
        canonical_name,
        agency_kind,
        case
            when agency_kind in ('sheriff', 'county_commission') then 'county'
            when agency_kind in ('constable', 'university') then 'other'
            when
                regexp_matches(
                    canonical_name,
                    '\b(state police|state patrol|highway patrol|national guard|state guard|attorney general'
                    || '|state attorney|state fire marshal|state auditor|bureau of investigation)\b'
                )
                or regexp_matches(canonical_name, '^(state of|commonwealth of|cnmi)\b')
                or regexp_matches(
                    canonical_name,
                    '^' || state_name || ' (department|dept|office|division|bureau|board|commission)\b'
                )
                then 'state'
            when agency_kind = 'prosecutor' then 'other'
            when agency_kind = 'corrections' and regexp_matches(canonical_name, '\b(regional|district)\b') then 'other'
            when
                agency_kind = 'corrections'
                and (regexp_matches(canonical_name, '\b(county|parish)\b') or agency_type = 'county')
                then 'county'
            when agency_kind = 'corrections' then 'state'
            when
                regexp_matches(
                    canonical_name,
                    '\b(airport|port authority|schools?|school district|university|college|transit|hospital'
                    || '|park district|parks and recreation|park rangers?|housing authority|authority|task force'
                    || '|levee)\b|^ward\b'
                )
                then 'other'
            when
                agency_kind = 'police'
                and (
                    regexp_matches(canonical_name, '\b(county|parish) police\b')
                    or (agency_type = 'county' and regexp_matches(canonical_name, '\b(county|parish)\b'))
                )
                then 'county'
            when agency_kind = 'police' or regexp_matches(canonical_name, '\bmarshals?\b') then 'municipal'
            when
                agency_type = 'municipality'
                and regexp_matches(canonical_name, '^(city|town|village|borough|township) of |\bcity$')
                then 'municipal'
            when agency_type = 'state_agency' then 'state'
            else 'other'
        end as geography_kind,
        {{ place_name('canonical_name') }} as place_name,
        {{ words_key('canonical_name') }} as words_key,
        state_name
    from kinds
),

keyed as (
    select
        profiled.* exclude (state_name),
        {{ words_key('profiled.place_name') }} as body_key,
        profiled.state_name
    from profiled
)

select
    keyed.* exclude (state_name),
    {{ state_free_key('keyed.words_key', 'keyed.state_name', 'keyed.state_code') }} as state_free_words_key,
    {{ state_free_key('keyed.body_key', 'keyed.state_name', 'keyed.state_code') }} as state_free_body_key
from keyed
