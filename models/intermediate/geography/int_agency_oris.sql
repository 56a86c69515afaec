-- One row per agency, with the FBI ORI that is its own, or none. An agency takes the ORI of a
-- reviewed fix (seeds/fix_agency_geography.csv: ori_match reviewed_fix); else the one candidate
-- of its strongest rule (int_agency_ori_candidates: ori_match fbi_name); of several, the one
-- candidate whose counties include the county ICE lists for it (match_rule ends _in_county),
-- else the one that is the body itself rather than one of its units listed under one name
-- ("State Police" beside "State Police:" troops; match_rule ends _not_unit).
-- Ambiguity is no match: several candidates left, or one ORI taken by two agencies (a reviewed
-- fix takes an ORI away from the rules), leave the agency with none (ori_match none, with why
-- in no_match_reason); review_agency_geography lists the candidates.
with fixes as (
    select
        agency_id,
        ori
    from {{ ref('int_agency_geography_fixes') }}
    -- a fix naming no agency of this build takes no ORI away from the rules (fixed_oris)
    where ori is not null and agency_id is not null
),

fixed_oris as (
    select distinct ori from fixes
),

strongest as (
    select * from {{ ref('int_agency_ori_candidates') }}
    qualify rule_rank = min(rule_rank) over (partition by agency_id)
),

chosen as (
    select
        agency_id,
        count(*) as candidate_count,
        case
            when count(*) = 1 then any_value(ori)
            when count(*) filter (where county_agrees) = 1 then any_value(ori) filter (where county_agrees)
            when count(*) filter (where not is_unit) = 1 then any_value(ori) filter (where not is_unit)
        end as ori,
        case
            when count(*) = 1 then any_value(match_rule)
            when count(*) filter (where county_agrees) = 1
                then any_value(match_rule) filter (where county_agrees) || '_in_county'
            when count(*) filter (where not is_unit) = 1
                then any_value(match_rule) filter (where not is_unit) || '_not_unit'
        end as match_rule
    from strongest
    group by agency_id
),

claims as (
    -- how many agencies the rules give each ORI, and whether a reviewed fix gives it to one
    select
        chosen.ori,
        count(*) as agency_count,
        bool_or(fixed_oris.ori is not null) as is_fixed
    from chosen
    left join fixed_oris on chosen.ori = fixed_oris.ori
    where chosen.ori is not null
    group by chosen.ori
)

select
    profiles.agency_id,
    coalesce(fixes.ori, case when claims.agency_count = 1 and not claims.is_fixed then chosen.ori end) as ori,
    case
        when fixes.ori is not null then 'reviewed_fix'
        when claims.agency_count = 1 and not claims.is_fixed then 'fbi_name'
        else 'none'
    end as ori_match,
    case
        when fixes.ori is not null then 'fix_agency_geography'
        when claims.agency_count = 1 and not claims.is_fixed then chosen.match_rule
    end as match_rule,
    coalesce(chosen.candidate_count, 0) as candidate_count,
    case
        when fixes.ori is not null or (claims.agency_count = 1 and not claims.is_fixed) then null
        when claims.is_fixed then 'ori_of_a_reviewed_fix'
        when claims.agency_count > 1 then 'ori_of_several_agencies'
        when chosen.candidate_count > 1 then 'several_candidates'
        else 'no_candidate'
    end as no_match_reason
from {{ ref('int_agency_profiles') }} as profiles
left join fixes on profiles.agency_id = fixes.agency_id
left join chosen on profiles.agency_id = chosen.agency_id
left join claims on chosen.ori = claims.ori
