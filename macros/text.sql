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

{#- An http(s) URL without any Wayback prefix; anything else ('-', 'link', internal refs) is no URL. -#}
{% macro web_url(expression) -%}
    case
        when regexp_matches({{ clean_text(expression) }}, '^https?://')
            then {{ strip_wayback(clean_text(expression)) }}
    end
{%- endmacro %}
