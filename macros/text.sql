{#- Whitespace (including non-breaking spaces) collapsed and trimmed; empty becomes null. -#}
{% macro clean_text(expression) -%}
    nullif(trim(regexp_replace({{ expression }}, '[\s\x{00A0}\x{200B}]+', ' ', 'g')), '')
{%- endmacro %}

{#- The cell under a published header (matched case- and space-insensitively), or null. -#}
{% macro cell(cells, header) -%}
    list_filter({{ cells }}, lambda c: upper(trim(regexp_replace(c.header, '\s+', ' ', 'g'))) = '{{ header }}')[1]
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
  abbreviations spelled out (Co, PD, SO, Dept, St, Twp), "Sheriff's"/"Sheriffs" as "sheriff".
  "Tampa Pd" and "Tampa Police Department" reduce to the same name.
-#}
{% macro canonical_agency_name(expression) -%}
    {%- set rewrites = [
        ('\\bco\\b', 'county'),
        ('\\bpd\\b', 'police department'),
        ('\\bso\\b', 'sheriffs office'),
        ('\\bdept\\b', 'department'),
        ('\\bsheriffs\\b', 'sheriff'),
        ('\\bst\\b', 'saint'),
        ('\\bft\\b', 'fort'),
        ('\\btwp\\b', 'township'),
        ('\\bdist\\b', 'district'),
        ('^the ', ''),
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
