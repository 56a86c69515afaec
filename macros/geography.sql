{#-
  A county name reduced to what identifies it within its state, for comparing ICE's COUNTY
  column (and agency names) with the Census names: lower case, accents dropped ("Doña Ana"),
  apostrophes and periods dropped ("O'Brien" is "obrien"), other punctuation and hyphens as
  spaces ("Miami-Dade" is "miami dade"), "St"/"Ste" spelled "saint"/"sainte", spaces collapsed,
  and one trailing County / Parish / Borough / Census Area / City and Borough / Municipality /
  Municipio / city dropped ("Orleans Parish" is "orleans", "Baltimore city" is "baltimore").
  Null when nothing is left (a null, blank or bare "County").
-#}
{% macro county_base_name(expression) -%}
    nullif(regexp_replace(regexp_replace(regexp_replace(
        trim(regexp_replace(
            regexp_replace(strip_accents(lower({{ expression }})), '[''’‘`´.]', '', 'g'),
            '[^a-z0-9]+', ' ', 'g'
        )),
        '\bst\b', 'saint', 'g'),
        '\bste\b', 'sainte', 'g'),
        '(^| )(city and borough|census area|county|parish|borough|municipality|municipio|city)$', ''
    ), '')
{%- endmacro %}

{#-
  The county a listing names, as county_base_name, or null when it names none: ICE's COUNTY
  column (county_name; its placeholders "#NA" and "N/A" name none), else the words before the
  first " County" or " Parish" of agency_name ("Walton County Sheriff's Office"), or " Borough"
  in Alaska, where boroughs are counties (elsewhere a borough is a town: "Manheim Borough Police
  Department"). state_code is the listing's USPS code.
-#}
{% macro named_county(state_code, county_name, agency_name) -%}
    {%- set county_base = county_base_name(county_name) -%}
    {%- set agency_county -%}
        case
            when {{ state_code }} = 'AK'
                then regexp_extract({{ agency_name }}, '(?i)^(.*?)\s+(county|parish|borough)\b', 1)
            else regexp_extract({{ agency_name }}, '(?i)^(.*?)\s+(county|parish)\b', 1)
        end
    {%- endset -%}
    coalesce(
        case when {{ county_base }} not in ('na', 'n a', 'none', 'unknown') then {{ county_base }} end,
        {{ county_base_name(agency_county) }}
    )
{%- endmacro %}

{#-
  True when the county a listing names (macro named_county) exists among the Census counties of
  its state (state_code: USPS code); also true when it names none: there is nothing to
  contradict. False when a county is named but the state is null. The arguments are SQL
  expressions on the caller's row; they must not use the names census_state_code or
  census_county_base_name.
-#}
{% macro names_known_county(state_code, county_name, agency_name) -%}
    {%- set named = named_county(state_code, county_name, agency_name) -%}
    (
        {{ named }} is null
        or exists (
            select 1
            from (
                -- Census columns renamed, so that the caller's unqualified column names
                -- (state_code, county_name, ...) bind to the caller's row, not to these tables.
                select
                    s.state_code as census_state_code,
                    c.county_base_name as census_county_base_name
                from {{ ref('stg_census__counties') }} as c
                inner join {{ ref('stg_census__states') }} as s on c.state_fips = s.state_fips
            ) as census
            where census.census_state_code = {{ state_code }} and census.census_county_base_name = {{ named }}
        )
    )
{%- endmacro %}
