-- One row per agency, with the Census county it serves (county_fips) and where that came from
-- (county_match), or none. County texts are read through int_county_name_matches.
--   county and other bodies (a sheriff, a county jail, a county police, a constable): the county
--     ICE's COUNTY column names (ice_county), else the one its name carries (agency_name); when
--     both name a county and they differ, none. Without either, its ORI's county (fbi_roster).
--   municipal bodies (city, town, village, township police): the county of its ORI (fbi_roster);
--     when the FBI lists several, the one ICE's column names (ice_county), else none. Without
--     an ORI, or an ORI with no county, ICE's column (ice_county).
--   state bodies: none (a state agency serves the whole state; ICE's county is its seat).
-- A reviewed fix (seeds/fix_agency_geography.csv with a county_fips) overrides (reviewed_fix).
with county_matches as (
    select * from {{ ref('int_county_name_matches') }}
),

fixes as (
    select
        agency_id,
        county_fips
    from {{ ref('int_agency_geography_fixes') }}
    where county_fips is not null
),

fbi_county_texts as (
    select
        ori,
        state_code,
        unnest(county_texts) as county_text
    from {{ ref('int_fbi_agencies') }}
),

ori_counties as (
    -- the Census counties of each agency's ORI
    select
        oris.agency_id,
        list_sort(list_distinct(list(county_matches.county_fips))) as county_fips_list
    from {{ ref('int_agency_oris') }} as oris
    inner join fbi_county_texts on oris.ori = fbi_county_texts.ori
    inner join county_matches
        on
            fbi_county_texts.state_code = county_matches.state_code
            and fbi_county_texts.county_text = county_matches.county_text
    where county_matches.county_fips is not null
    group by oris.agency_id
),

evidence as (
    select
        profiles.agency_id,
        profiles.geography_kind,
        listed.county_fips as listed_fips,
        named.county_fips as named_fips,
        coalesce(ori_counties.county_fips_list, []) as ori_fips
    from {{ ref('int_agency_profiles') }} as profiles
    left join county_matches as listed
        on profiles.state_code = listed.state_code and profiles.listed_county_name = listed.county_text
    left join county_matches as named
        on profiles.state_code = named.state_code and profiles.name_county_name = named.county_text
    left join ori_counties on profiles.agency_id = ori_counties.agency_id
),

ruled as (
    select
        agency_id,
        case
            when geography_kind in ('county', 'other')
                then
                    case
                        when listed_fips is not null and named_fips is not null and listed_fips <> named_fips
                            then struct_pack(f := null::varchar, m := 'none', w := 'ice_county_and_name_differ')
                        when listed_fips is not null then struct_pack(f := listed_fips, m := 'ice_county', w := null)
                        when named_fips is not null then struct_pack(f := named_fips, m := 'agency_name', w := null)
                        when len(ori_fips) = 1 then struct_pack(f := ori_fips[1], m := 'fbi_roster', w := null)
                        when len(ori_fips) > 1
                            then struct_pack(f := null::varchar, m := 'none', w := 'ori_in_several_counties')
                        else struct_pack(f := null::varchar, m := 'none', w := 'no_county_named')
                    end
            when geography_kind = 'municipal'
                then
                    case
                        when len(ori_fips) = 1 then struct_pack(f := ori_fips[1], m := 'fbi_roster', w := null)
                        when len(ori_fips) > 1 and list_contains(ori_fips, listed_fips)
                            then struct_pack(f := listed_fips, m := 'ice_county', w := null)
                        when len(ori_fips) > 1
                            then struct_pack(f := null::varchar, m := 'none', w := 'ori_in_several_counties')
                        when listed_fips is not null then struct_pack(f := listed_fips, m := 'ice_county', w := null)
                        else struct_pack(f := null::varchar, m := 'none', w := 'no_county_named')
                    end
            else struct_pack(f := null::varchar, m := 'none', w := 'state_body')
        end as decision,
        listed_fips,
        named_fips,
        ori_fips
    from evidence
)

select
    ruled.agency_id,
    coalesce(fixes.county_fips, ruled.decision.f) as county_fips,
    case when fixes.county_fips is not null then 'reviewed_fix' else ruled.decision.m end as county_match,
    case when fixes.county_fips is null then ruled.decision.w end as no_match_reason,
    ruled.listed_fips as ice_county_fips,
    ruled.named_fips as name_county_fips,
    ruled.ori_fips as ori_county_fips
from ruled
left join fixes on ruled.agency_id = fixes.agency_id
