-- One row per agency and FBI ORI in its state that may be the agency's own, with the rule that
-- found it; int_agency_oris decides between them. The rules, by the agency's geography_kind
-- (int_agency_profiles) and the ORI's fbi_kind (int_fbi_agencies):
--   place_name    a municipal agency and a City ORI of the same place name ("Tampa Police
--                 Department" and "Tampa"; "Village of Scarsdale Police" and "Scarsdale Village");
--   place_stem    the same, one side without the kind of municipality at its end ("Manheim Borough
--                 Police Department" and "Manheim"; never a township's);
--   county_sheriff  a sheriff's office and the ORI of the sheriff of the county ICE's column or
--                 its name names (the FBI names it by the county: "Harris", type County);
--   county_police   a county police department and the County ORI named Police of that county;
--   own_name      an agency that is no municipal police nor sheriff and a state, university or
--                 other ORI of the same name (macro words_key; for a state body without the
--                 state's name and the words state and department, macro state_free_key:
--                 "Bradley County Constable District 7", "Oklahoma Department of Corrections",
--                 "Louisiana State Police Department" and "State Police");
--   own_name_without_kind  the same on the names without their kind (macro place_name:
--                 "University of Florida Police Department" and "University of Florida").
-- A police department never meets a sheriff's ORI nor a sheriff a police ORI: each rule pairs
-- one kind with one kind. A rule with a lower rank is stronger (rule_rank).
with profiles as (
    select * from {{ ref('int_agency_profiles') }}
),

fbi as (
    select * from {{ ref('int_fbi_agencies') }}
    where fbi_kind not in ('federal', 'tribal')
),

county_matches as (
    select
        state_code,
        county_text,
        county_fips
    from {{ ref('int_county_name_matches') }}
    where county_fips is not null
),

agency_counties as (
    -- the counties ICE's column and the agency's name give, before any ORI (list_distinct drops nulls)
    select
        profiles.agency_id,
        listed.county_fips as listed_county_fips,
        list_distinct([listed.county_fips, named.county_fips])
            as named_county_fips
    from profiles
    left join county_matches as listed
        on profiles.state_code = listed.state_code and profiles.listed_county_name = listed.county_text
    left join county_matches as named
        on profiles.state_code = named.state_code and profiles.name_county_name = named.county_text
),

fbi_counties as (
    select
        fbi_texts.ori,
        list_sort(list_distinct(list(county_matches.county_fips))) as county_fips_list
    from (
        select
            ori,
            state_code,
            unnest(county_texts) as county_text
        from fbi
    ) as fbi_texts
    inner join county_matches
        on fbi_texts.state_code = county_matches.state_code and fbi_texts.county_text = county_matches.county_text
    group by fbi_texts.ori
),

agencies as (
    select
        profiles.*,
        {{ place_stem('profiles.place_name') }} as place_stem,
        agency_counties.listed_county_fips,
        agency_counties.named_county_fips
    from profiles
    inner join agency_counties on profiles.agency_id = agency_counties.agency_id
),

oris as (
    select
        fbi.*,
        {{ place_stem('fbi.place_name') }} as place_stem,
        coalesce(fbi_counties.county_fips_list, []) as county_fips_list
    from fbi
    left join fbi_counties on fbi.ori = fbi_counties.ori
),

candidates as (
    select
        agencies.agency_id,
        oris.ori,
        1 as rule_rank,
        'place_name' as match_rule
    from agencies
    inner join oris
        on
            agencies.state_code = oris.state_code
            and agencies.place_name = oris.place_name
    where agencies.geography_kind = 'municipal' and oris.fbi_kind = 'municipal_police'
    union all
    select
        agencies.agency_id,
        oris.ori,
        2 as rule_rank,
        'place_stem' as match_rule
    from agencies
    inner join oris
        on
            agencies.state_code = oris.state_code
            and agencies.place_name <> oris.place_name
            and (agencies.place_stem = oris.place_name or agencies.place_name = oris.place_stem)
    where agencies.geography_kind = 'municipal' and oris.fbi_kind = 'municipal_police'
    union all
    -- a county's sheriff, or a county police, takes the ORI of its kind in its county
    select
        agencies.agency_id,
        oris.ori,
        1 as rule_rank,
        'county_' || agencies.agency_kind as match_rule
    from agencies
    inner join oris
        on
            agencies.state_code = oris.state_code
            and list_has_any(agencies.named_county_fips, oris.county_fips_list)
    where
        (agencies.agency_kind = 'sheriff' and oris.fbi_kind = 'sheriff')
        or (agencies.geography_kind = 'county' and agencies.agency_kind = 'police' and oris.fbi_kind = 'county_police')
    union all
    -- its own name, else its own name without its kind; a state body's without the state's name
    select
        agencies.agency_id,
        oris.ori,
        key_rules.rule_rank,
        key_rules.match_rule
    from agencies
    cross join (values (1, 'own_name'), (2, 'own_name_without_kind')) as key_rules (rule_rank, match_rule)
    inner join oris
        on
            agencies.state_code = oris.state_code
            and case
                when key_rules.rule_rank = 1 and agencies.geography_kind = 'state'
                    then agencies.state_free_words_key = oris.state_free_words_key
                when key_rules.rule_rank = 1 then agencies.words_key = oris.words_key
                when agencies.geography_kind = 'state' then agencies.state_free_body_key = oris.state_free_body_key
                else agencies.body_key = oris.body_key
            end
    where
        agencies.geography_kind <> 'municipal'
        and agencies.agency_kind is distinct from 'sheriff'
        and oris.fbi_kind in ('state', 'university', 'other')
)

select
    candidates.agency_id,
    candidates.ori,
    min(candidates.rule_rank) as rule_rank,
    arg_min(candidates.match_rule, candidates.rule_rank) as match_rule,
    -- whether the ORI's counties include the county ICE lists for the agency (null when either names none)
    case
        when any_value(agencies.listed_county_fips) is not null and len(any_value(oris.county_fips_list)) > 0
            then list_contains(any_value(oris.county_fips_list), any_value(agencies.listed_county_fips))
    end as county_agrees,
    any_value(oris.county_fips_list) as ori_county_fips,
    any_value(oris.is_unit) as is_unit
from candidates
inner join agencies on candidates.agency_id = agencies.agency_id
inner join oris on candidates.ori = oris.ori
group by candidates.agency_id, candidates.ori
