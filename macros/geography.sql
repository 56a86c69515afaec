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

{#-
  A county name as a comparison key (expression: text naming a county, in any case): lower
  case, accents, apostrophes and periods dropped, "City of X" read as "X city", "St"/"Ste"
  spelled "saint"/"sainte", and every space and other character between letters removed, so
  that "De Kalb" and "DeKalb", "St. Johns" and "Saint Johns", "Miami-Dade" and "MIAMI DADE"
  are one key. The kind stays: "Richmond city" is richmondcity, "Richmond County" richmondcounty.
-#}
{% macro county_key(expression) -%}
    nullif(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        regexp_replace(strip_accents(lower(trim({{ expression }}))), '[''’‘`´.]', '', 'g'),
        '^city of (.+)$', '\1 city'),
        '\bst\b', 'saint', 'g'),
        '\bste\b', 'sainte', 'g'),
        '[^a-z0-9]+', '', 'g'
    ), '')
{%- endmacro %}

{#-
  county_key without the county's kind (macro county_base_name, then compacted): "Richmond
  city", "Richmond County" and "RICHMOND" are all richmond; "James City County" is jamescity.
-#}
{% macro county_base_key(expression) -%}
    nullif(replace(
        {{ county_base_name("regexp_replace(trim(" ~ expression ~ "), '(?i)^city of (.+)$', '\\1 city')") }},
        ' ', ''
    ), '')
{%- endmacro %}

{#-
  True when a county text names no county (its county_base_key is a placeholder): ICE's "#NA",
  "N/A", "None", the FBI's "NOT SPECIFIED" and "UNMAPPED COUNTY". Null text is no county too.
-#}
{% macro is_placeholder_county(expression) -%}
    coalesce({{ county_base_key(expression) }} in ('na', 'none', 'unknown', 'notspecified', 'unmapped'), true)
{%- endmacro %}

{#-
  The place a law-enforcement body's name is named for, for matching ICE's names against the
  FBI's, which drop the kind (expression: a canonical_agency_name): "tampa police department"
  is tampa, "city of chi police department" is "chi city", "town of x" is "x town", "charter
  township of clinton" is "clinton township", "las vegas metropolitan police department" is "las
  vegas metropolitan". The kinds dropped: police department / department of police / police,
  department or division of public safety, marshal's office, sheriff's office or department, and
  the words department and office (also misspelt "Departement").
-#}
{% macro place_name(expression) -%}
    {%- set kinds = 'police departe?ment|departe?ment of police|police services|police|'
        ~ 'departe?ment of public safety|division of public safety and security|division of public safety|'
        ~ 'public safety departe?ment|public safety|city marshals? office|marshals? office|city marshals?|marshals?|'
        ~ 'sheriff office|sheriff departe?ment|sheriff|departe?ment|office' -%}
    nullif(trim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        regexp_replace({{ expression }}, '^(city|town|village|borough|township|charter township) of (.+)$', '\2 \1'),
        '\b(' || '{{ kinds }}' || ')\b', ' ', 'g'),
        '\bcharter township\b', 'township', 'g'),
        '\bmt\b', 'mount', 'g'),
        '\s+', ' ', 'g'
    )), '')
{%- endmacro %}

{#-
  A place_name without the kind of municipality at its end ("manheim borough" is manheim,
  "scarsdale village" is scarsdale, "cass city" is cass); a township keeps its kind: "Manheim
  Township" and the borough of Manheim are two places with two police departments.
-#}
{% macro place_stem(expression) -%}
    nullif(regexp_replace({{ expression }}, ' (town|village|city|borough|boro)$', ''), '')
{%- endmacro %}

{#-
  A body's name key (macro words_key: sorted words, plurals and of/the/and dropped) without
  the words of its state's name and code and the words state and department, for state
  bodies, which the FBI and ICE name with or without them: "Louisiana State Police Department"
  and "State Police" are both "police", "Wyoming State Highway Patrol" and "Wyoming Highway
  Patrol" "highway patrol" (key: a words_key; state_name: the state's name in lower
  case; state_code: its USPS code).
-#}
{% macro state_free_key(key, state_name, state_code) -%}
    nullif(array_to_string(list_filter(
        string_split({{ key }}, ' '),
        lambda w: not list_contains(
            list_concat(
                string_split(lower({{ state_name }}), ' '),
                list_transform(string_split(lower({{ state_name }}), ' '), lambda s: regexp_replace(s, 's$', '')),
                [lower({{ state_code }}), 'state', 'department']
            ),
            w
        )
    ), ' '), '')
{%- endmacro %}

{#-
  A name's words as a key for telling whether two names are one body's (expression: a
  canonical_agency_name or place_name): its distinct words in sorted order, without of / the /
  and / at, plurals as singulars ("Department of Corrections" and "Corrections Department" are
  both "correction department"). Null for a name without words.
-#}
{% macro words_key(expression) -%}
    nullif(array_to_string(list_sort(list_distinct(list_transform(
        list_filter(string_split({{ expression }}, ' '), lambda w: w not in ('', 'of', 'the', 'and', 'at')),
        lambda w: case when length(w) > 3 and w like '%s' and w not like '%ss' then left(w, -1) else w end
    ))), ' '), '')
{%- endmacro %}
