-- One row per agency and candidate ORI or county that the geography rules could not decide, or
-- decided against what ICE lists, with why, for a person to settle with a row of
-- seeds/fix_agency_geography.csv (written to build/review/agency_geography_review.csv):
--   several_oris             the strongest rule found several ORIs and ICE's county picks none;
--   ori_of_several_agencies  the one ORI the rules found is also another agency's only one;
--   ori_of_a_reviewed_fix    the ORI the rules found is another agency's by a reviewed fix;
--   ori_outside_ice_county   the ORI taken lies in none of the counties ICE lists (informative);
--   ice_county_and_name_differ  ICE's COUNTY column and the agency's name name two counties;
--   ori_in_several_counties  the FBI lists the ORI in several counties and ICE names none of them;
--   county_name_in_several_counties  the county ICE lists is the name of several Census counties.
-- is_taken says whether the agency has the candidate now.
with profiles as (
    select * from {{ ref('int_agency_profiles') }}
),

oris as (
    select * from {{ ref('int_agency_oris') }}
),

counties as (
    select * from {{ ref('int_agency_counties') }}
),

fbi as (
    select * from {{ ref('int_fbi_agencies') }}
),

census as (
    select
        county_fips,
        min(county_name) as county_name
    from {{ ref('stg_census__counties') }}
    group by county_fips
),

strongest as (
    select * from {{ ref('int_agency_ori_candidates') }}
    qualify rule_rank = min(rule_rank) over (partition by agency_id)
),

ori_rows as (
    select
        strongest.agency_id,
        'ori' as candidate_type,
        strongest.ori as candidate,
        strongest.match_rule,
        case oris.no_match_reason
            when 'several_candidates' then 'several_oris'
            when 'ori_of_several_agencies' then 'ori_of_several_agencies'
            when 'ori_of_a_reviewed_fix' then 'ori_of_a_reviewed_fix'
            else 'ori_outside_ice_county'
        end as why,
        coalesce(oris.ori = strongest.ori, false) as is_taken
    from strongest
    inner join oris on strongest.agency_id = oris.agency_id
    where
        oris.no_match_reason in ('several_candidates', 'ori_of_several_agencies', 'ori_of_a_reviewed_fix')
        or (oris.ori = strongest.ori and oris.ori_match = 'fbi_name' and not strongest.county_agrees)
),

county_rows as (
    select
        agency_id,
        'county' as candidate_type,
        unnest(
            case
                when no_match_reason = 'ice_county_and_name_differ' then [ice_county_fips, name_county_fips]
                else ori_county_fips
            end
        ) as candidate,
        null as match_rule,
        no_match_reason as why,
        false as is_taken
    from counties
    where no_match_reason in ('ice_county_and_name_differ', 'ori_in_several_counties')
    union all
    select
        profiles.agency_id,
        'county' as candidate_type,
        unnest(matches.candidate_fips) as candidate,
        null as match_rule,
        'county_name_in_several_counties' as why,
        false as is_taken
    from profiles
    inner join {{ ref('int_county_name_matches') }} as matches
        on profiles.state_code = matches.state_code and profiles.listed_county_name = matches.county_text
    inner join counties on profiles.agency_id = counties.agency_id
    where matches.county_fips is null and len(matches.candidate_fips) > 1 and counties.county_fips is null
),

candidates as (
    select * from ori_rows
    union all
    select * from county_rows
)

select
    candidates.agency_id,
    candidates.candidate_type,
    candidates.candidate,
    candidates.why,
    candidates.is_taken,
    profiles.state_code,
    profiles.agency_name,
    profiles.geography_kind,
    profiles.listed_county_name,
    candidates.match_rule,
    coalesce(fbi.agency_name, census.county_name) as candidate_name,
    fbi.fbi_agency_type as candidate_fbi_type,
    fbi.county_names as candidate_fbi_counties
from candidates
inner join profiles on candidates.agency_id = profiles.agency_id
left join fbi on candidates.candidate_type = 'ori' and candidates.candidate = fbi.ori
left join census on candidates.candidate_type = 'county' and candidates.candidate = census.county_fips
