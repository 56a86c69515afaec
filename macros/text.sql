{#-
  Characters that act on a terminal or reorder text instead of being shown: control characters
  but tab and line breaks, and the format characters that hide or reverse text (zero widths,
  bidirectional overrides and isolates, the byte-order mark). A regex character class.
-#}
{% macro acting_characters() -%}
    [\x{00}-\x{08}\x{0B}\x{0C}\x{0E}-\x{1F}\x{7F}-\x{9F}\x{200B}-\x{200F}\x{202A}-\x{202E}\x{2060}-\x{2064}\x{2066}-\x{2069}\x{FEFF}]
{%- endmacro %}

{#- Whitespace, non-breaking spaces and acting characters collapsed to one space, trimmed; empty is null. -#}
{% macro clean_text(expression) -%}
    nullif(trim(regexp_replace({{ expression }}, '(\s|\x{00A0}|{{ acting_characters() }})+', ' ', 'g')), '')
{%- endmacro %}

{#- The cell under a header, as the layout registry names it (the loader normalised it), or null. -#}
{% macro cell(cells, header) -%}
    list_filter({{ cells }}, lambda c: c.header = '{{ header }}')[1]
{%- endmacro %}

{#- A URL without the Wayback Machine prefix that archives put in front of ICE's links. -#}
{% macro strip_wayback(expression) -%}
    regexp_replace({{ expression }}, '^https?://web\.archive\.org/web/[0-9]+[a-z_]*/', '')
{%- endmacro %}

{#-
  An http(s) URL as users can follow it: without a Wayback prefix, and unwrapped from the
  Outlook "safelinks" redirect some of ICE's staff pasted in. Anything else ('-', 'link',
  internal references) is no URL.
-#}
{% macro web_url(expression) -%}
    case
        when regexp_matches({{ clean_text(expression) }}, '^https?://[^/]*safelinks\.protection\.outlook\.com/.*[?&]url=')
            then url_decode(regexp_extract({{ clean_text(expression) }}, '[?&]url=([^&]+)', 1))
        when regexp_matches({{ clean_text(expression) }}, '^https?://')
            then {{ strip_wayback(clean_text(expression)) }}
    end
{%- endmacro %}

{#- The MOA document a URL points to, for comparing links: its file name, decoded, lower case, no spaces. -#}
{% macro document_key(url) -%}
    nullif(regexp_replace(lower(url_decode(url_decode(regexp_extract({{ url }}, '[^/]+$')))), '\s+', '', 'g'), '')
{%- endmacro %}

{#-
  An agency name reduced to what identifies it: lower case, punctuation dropped, common
  abbreviations spelled out (Co, PD, Dept, St, Twp; SO at the end of a name is "Sheriff's
  Office", elsewhere "South" as in "So Middleton Twp"), "Sheriff's"/"Sheriffs" as "sheriff".
  "Tampa Pd" and "Tampa Police Department" reduce to the same name. This is the spelling's
  identity and the source of agency ids; agency_match_key below is the looser key for merging.
-#}
{% macro canonical_agency_name(expression) -%}
    {%- set rewrites = [
        ('\\bco\\b', 'county'),
        ('\\bpd\\b', 'police department'),
        ('\\bso$', 'sheriffs office'),
        ('\\bso\\b', 'south'),
        ('\\bdept\\b', 'department'),
        ('\\bsheriffs\\b', 'sheriff'),
        ('\\bst\\b', 'saint'),
        ('\\bft\\b', 'fort'),
        ('\\btwp\\b', 'township'),
        ('\\bdist\\b', 'district'),
        ('^(the )+', ''),
    ] -%}
    {%- set base = "regexp_replace(lower(" ~ expression ~ "), '[''’‘`´.,()]', '', 'g')" -%}
    {%- set base = "regexp_replace(" ~ base ~ ", '&', ' and ', 'g')" -%}
    {%- set ns = namespace(sql="trim(regexp_replace(" ~ base ~ ", '[^a-z0-9]+', ' ', 'g'))") -%}
    {%- for pattern, replacement in rewrites -%}
        {%- set ns.sql = "regexp_replace(" ~ ns.sql ~ ", '" ~ pattern ~ "', '" ~ replacement ~ "', 'g')" -%}
    {%- endfor -%}
    trim(regexp_replace({{ ns.sql }}, '\s+', ' ', 'g'))
{%- endmacro %}

{#- A lower-case, hyphenated identifier fragment. -#}
{% macro slug(expression) -%}
    trim(regexp_replace(lower({{ expression }}), '[^a-z0-9]+', '-', 'g'), '-')
{%- endmacro %}

{#-
  The key under which two spellings of one state are the same agency, whatever else the rules
  say (expression: a canonical_agency_name; state_name and state_code: the state's name and code
  as canonical_agency_name spells them, "us virgin islands", and "county" for Colorado's CO). It
  drops what ICE adds or leaves out of one agency's name from list to list:
    * "City of" / "Town of" / "Village of" before a municipal name;
    * the state's own name before a state body ("Department of Corrections" is later
      "Virginia Department of Corrections"; "MT Dept of Justice" is the Montana one);
    * the state's name or code after the name ("Unity Township Constable, PA");
    * Parish for County, "Sheriff Department" for "Sheriff Office", "Constable's Office" for
      "Constable", BOCC, DPS and DOC spelled out;
    * the word County in any name but a police department's: "Hopewell County Sheriff's
      Office" is the Hopewell Sheriff's Office (a Virginia city), while a county police
      department and the city's police department are two agencies;
    * word order, plurals and the words of/the/and ("Wyoming Highway State Patrol" and
      "Wyoming State Highway Patrol").
-#}
{% macro agency_match_key(expression, state_name, state_code) -%}
    {%- set state_bodies = 'department|dept|state|highway|office|bureau|division|attorney|police|patrol|marine'
        ~ '|wildlife|fish|game|correction|corrections|board|commission|university' -%}
    {%- set state = "' || " ~ state_name ~ " || '|' || " ~ state_code ~ " || '" -%}
    {%- set ns = namespace(sql=expression) -%}
    {#- abbreviated state bodies are spelled out first, so the state's name before them can go -#}
    {%- set ns.sql = "regexp_replace(" ~ ns.sql ~ ", '\\bbocc\\b', 'board of county commissioners', 'g')" -%}
    {%- set ns.sql = "regexp_replace(" ~ ns.sql ~ ", '\\bdps\\b', 'department of public safety', 'g')" -%}
    {%- set ns.sql = "regexp_replace(" ~ ns.sql ~ ", '\\bdoc\\b', 'department of corrections', 'g')" -%}
    {%- set ns.sql = "regexp_replace(" ~ ns.sql ~ ", '^(city|town|village) of ', '')" -%}
    {%- set state_prefix = "'^(state of )?(" ~ state ~ ") (" ~ state_bodies ~ ")\\b'" -%}
    {%- set ns.sql = "regexp_replace(" ~ ns.sql ~ ", " ~ state_prefix ~ ", '\\3')" -%}
    {%- set ns.sql = "regexp_replace(" ~ ns.sql ~ ", ' (" ~ state ~ ")$', '')" -%}
    {%- set ns.sql = "regexp_replace(" ~ ns.sql ~ ", '\\bparish\\b', 'county', 'g')" -%}
    {%- set ns.sql = "regexp_replace(" ~ ns.sql ~ ", '\\bconstables?( office)?\\b', 'constable', 'g')" -%}
    {%- set ns.sql = "regexp_replace(" ~ ns.sql ~ ", '\\bsheriff department\\b', 'sheriff office', 'g')" -%}
    {%- set words = "string_split(" ~ ns.sql ~ ", ' ')" -%}
    array_to_string(list_sort(list_distinct(list_transform(
        list_filter(
            {{ words }},
            lambda w: w not in ('', 'of', 'the', 'and') and (w <> 'county' or list_contains({{ words }}, 'police'))
        ),
        lambda w: case when length(w) > 3 and w like '%s' and w not like '%ss' then left(w, -1) else w end
    ))), ' ')
{%- endmacro %}

{#-
  What kind of body an agency name names (expression: a canonical_agency_name): sheriff,
  police, county_commission, corrections, constable, prosecutor, university, or null when the
  name says none of these. Two spellings of different known kinds are two signatories, never
  merged by similarity.
-#}
{% macro agency_kind(expression) -%}
    case
        when regexp_matches({{ expression }}, '\bsheriff') then 'sheriff'
        when regexp_matches({{ expression }}, '\bconstable') then 'constable'
        when regexp_matches({{ expression }}, '\b(board of county commissioners|bocc|county commission)\b')
            then 'county_commission'
        when regexp_matches({{ expression }}, '\b(corrections?|correctional|jail|prison|detention)\b') then 'corrections'
        when regexp_matches({{ expression }}, '\b(attorney|prosecutor)') then 'prosecutor'
        when regexp_matches({{ expression }}, '\b(board of trustees|university|college)\b') and not regexp_matches({{ expression }}, '\bpolice\b')
            then 'university'
        when regexp_matches({{ expression }}, '\b(police|public safety|patrol|marshal)\b') then 'police'
    end
{%- endmacro %}

{#-
  A listing row's content as one string, for comparing tables and rows across captures: the
  cleaned published values, with Wayback prefixes and whitespace differences already gone, and
  the signing date as read, before reviewed fixes (a fix changes no publication's id).
  Use on a relation with the columns of int_listing_rows.
-#}
{% macro listing_content() -%}
    concat_ws(
        '|',
        coalesce(state_name, ''),
        coalesce(agency_name, ''),
        coalesce(agency_type_name, ''),
        coalesce(county_name, ''),
        coalesce(support_type_name, ''),
        coalesce(cast(signed_date_read as varchar), signed_published, ''),
        coalesce(moa_url, lower({{ clean_text('moa_published') }}), ''),
        coalesce(addendum_url, '')
    )
{%- endmacro %}
