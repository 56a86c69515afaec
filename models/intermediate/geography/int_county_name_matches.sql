-- One row per county text (a state and a text naming a county) that ICE or the FBI uses: ICE's
-- COUNTY column, the county an agency's name carries, each county of the FBI roster. With the
-- Census county it names in that state (county_fips), or none when it names none or several.
--
-- Rules, the first that finds a county deciding (keys: macros county_key and county_base_key):
--   full_name    the text is a Census name with its kind: "Richmond city", "Orleans Parish",
--                "DE KALB COUNTY" (DeKalb County), "City of Hopewell" (Hopewell city);
--   base_name    the text is a Census name without its kind: "JAMES CITY" (James City County),
--                "MATANUSKA-SUSITNA" (Matanuska-Susitna Borough), "Saint Johns";
--   kind_dropped the text without its kind is a Census name without its kind: "Hopewell
--                County" (Virginia has only Hopewell city), "Union County" (Union Parish);
--   close_spelling  the text, with or without its kind, is within var county_spelling_edit_distance
--                edits of Census names of its state, and the closest is one ("Pulaksi", "Miffin",
--                "Guadalupe Conty"; "Bryant" is one edit from Bryan, two from Grant), and
--                names no Census county of any state (Arkansas's "Bowie County" is no typo of Boone:
--                ICE named Texarkana's Texas county).
-- The same name in two states never meets: every comparison is within the text's state. When a
-- rule finds two counties (Virginia's "Richmond" is Richmond County and Richmond city, Maryland's
-- "Baltimore" Baltimore County and Baltimore city), a text that does not say "city" names the
-- county (the FBI and ICE write the city's name with "city"); otherwise it names none.
with census as (
    select
        states.state_code,
        counties.county_fips,
        counties.county_name,
        {{ county_key('counties.county_name') }} as full_key,
        {{ county_base_key('counties.county_name') }} as base_key,
        -- the Census writes an independent city's kind in lower case: "Baltimore city"
        case when counties.county_name like '% city' then 'city' else 'county' end as county_kind
    from {{ ref('stg_census__counties') }} as counties
    inner join {{ ref('stg_census__states') }} as states on counties.state_fips = states.state_fips
),

profiles as (
    select * from {{ ref('int_agency_profiles') }}
),

texts as (
    select distinct
        state_code,
        county_text
    from (
        select
            state_code,
            listed_county_name as county_text
        from profiles
        union all
        select
            state_code,
            name_county_name as county_text
        from profiles
        union all
        select
            state_code,
            unnest(county_texts) as county_text
        from {{ ref('int_fbi_agencies') }}
    ) as all_texts
    where state_code is not null and county_text is not null and not {{ is_placeholder_county('county_text') }}
),

keyed as (
    select
        state_code,
        county_text,
        {{ county_key('county_text') }} as full_key,
        {{ county_base_key('county_text') }} as base_key,
        regexp_matches(lower(county_text), '\bcity\b') as says_city
    from texts
),

candidates as (
    select
        keyed.state_code,
        keyed.county_text,
        1 as rule_rank,
        'full_name' as match_rule,
        0 as spelling_distance,
        census.county_fips,
        census.county_kind
    from keyed
    inner join census on keyed.state_code = census.state_code and keyed.full_key = census.full_key
    union all
    select
        keyed.state_code,
        keyed.county_text,
        2 as rule_rank,
        'base_name' as match_rule,
        0 as spelling_distance,
        census.county_fips,
        census.county_kind
    from keyed
    inner join census on keyed.state_code = census.state_code and keyed.full_key = census.base_key
    union all
    select
        keyed.state_code,
        keyed.county_text,
        3 as rule_rank,
        'kind_dropped' as match_rule,
        0 as spelling_distance,
        census.county_fips,
        census.county_kind
    from keyed
    inner join census on keyed.state_code = census.state_code and keyed.base_key = census.base_key
    union all
    select
        keyed.state_code,
        keyed.county_text,
        4 as rule_rank,
        'close_spelling' as match_rule,
        least(
            damerau_levenshtein(keyed.base_key, census.base_key),
            damerau_levenshtein(keyed.full_key, census.full_key)
        ) as spelling_distance,
        census.county_fips,
        census.county_kind
    from keyed
    inner join census
        on
            keyed.state_code = census.state_code
            and length(keyed.base_key) >= 5
            -- a real county of another state is no typo ("Bowie County" listed in Arkansas is Texas's)
            and not exists (
                select 1 from census as anywhere
                where anywhere.full_key = keyed.full_key or anywhere.base_key = keyed.base_key
            )
            and (
                damerau_levenshtein(keyed.base_key, census.base_key) <= {{ var('county_spelling_edit_distance') }}
                or damerau_levenshtein(keyed.full_key, census.full_key) <= {{ var('county_spelling_edit_distance') }}
            )
),

best as (
    -- the candidates of the first rule that found any (of close spellings, the closest)
    select
        candidates.*,
        keyed.says_city
    from candidates
    inner join keyed on candidates.state_code = keyed.state_code and candidates.county_text = keyed.county_text
    qualify
        candidates.rule_rank * 100 + candidates.spelling_distance
        = min(candidates.rule_rank * 100 + candidates.spelling_distance)
            over (partition by candidates.state_code, candidates.county_text)
),

decided as (
    select
        state_code,
        county_text,
        any_value(match_rule) as match_rule,
        list_sort(list_distinct(list(county_fips))) as candidate_fips,
        -- two counties of one name: a text that does not say "city" names the county
        case
            when count(distinct county_fips) = 1 then any_value(county_fips)
            when
                not any_value(says_city)
                and any_value(rule_rank) < 4
                and count(distinct county_fips) filter (where county_kind = 'county') = 1
                then any_value(county_fips) filter (where county_kind = 'county')
        end as county_fips
    from best
    group by state_code, county_text
)

select
    keyed.state_code,
    keyed.county_text,
    decided.county_fips,
    case when decided.county_fips is not null then decided.match_rule end as match_rule,
    coalesce(decided.candidate_fips, []) as candidate_fips
from keyed
left join decided on keyed.state_code = decided.state_code and keyed.county_text = decided.county_text
