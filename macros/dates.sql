{#-
  Dates as ICE published them: real Excel dates, Excel serial numbers, ISO text, US text with
  four- or two-digit years, and US text with the slash before the year missing (05/082025).
  parse_published_date gives the date or null; published_date_method says which rule read it.
  Every rule reads digits only: anything else (DuckDB's date words 'infinity', 'epoch') is null.
-#}
{% macro _date_rules(text, kind) -%}
    case
        -- a date cell's text is ISO (workbook.cell_text); DuckDB would also cast the words
        -- 'infinity', '-infinity' and 'epoch' to dates, and a cell that says them holds no date
        when {{ kind }} in ('date', 'datetime') and regexp_matches({{ text }}, '^\d{4}-\d{2}-\d{2}')
            then struct_pack(d := try_cast(left({{ text }}, 10) as date), m := 'excel_date')
        when {{ kind }} = 'number' and try_cast({{ text }} as double) between 1 and 2958465
            then struct_pack(d := cast(date '1899-12-30' + to_days(cast(floor(cast({{ text }} as double)) as integer)) as date), m := 'excel_serial')
        when regexp_matches(trim({{ text }}), '^\d{4}-\d{1,2}-\d{1,2}$')
            then struct_pack(d := cast(try_strptime(trim({{ text }}), '%Y-%m-%d') as date), m := 'iso_text')
        when regexp_matches(trim({{ text }}), '^\d{1,2}/\d{1,2}/\d{4}$')
            then struct_pack(d := cast(try_strptime(trim({{ text }}), '%m/%d/%Y') as date), m := 'us_text')
        when regexp_matches(trim({{ text }}), '^\d{1,2}/\d{1,2}/\d{2}$')
            then struct_pack(d := cast(try_strptime(trim({{ text }}), '%m/%d/%y') as date), m := 'us_text_two_digit_year')
        when regexp_matches(trim({{ text }}), '^\d{1,2}/\d{1,2}\d{4}$')
            then struct_pack(
                d := cast(try_strptime(regexp_replace(trim({{ text }}), '^(\d{1,2})/(\d{1,2})(\d{4})$', '\1/\2/\3'), '%m/%d/%Y') as date),
                m := 'us_text_missing_slash'
            )
        when regexp_matches(trim({{ text }}), '^\d{1,2}-\d{1,2}-\d{4}$')
            then struct_pack(d := cast(try_strptime(trim({{ text }}), '%m-%d-%Y') as date), m := 'us_text_dashes')
        else struct_pack(d := null::date, m := null::varchar)
    end
{%- endmacro %}

{% macro parse_published_date(text, kind) -%}
    ({{ _date_rules(text, kind) }}).d
{%- endmacro %}

{% macro published_date_method(text, kind) -%}
    case when ({{ _date_rules(text, kind) }}).d is not null then ({{ _date_rules(text, kind) }}).m end
{%- endmacro %}

{#-
  The date an MOA file's name ends with, as ICE names them (Name_TFM_MOA_01072026.pdf, also
  01.07.2026, 01.07.26, 010726 and 2026-01-07), or null. A posting date or a typo looks the same:
  the errata rules compare it with the signing date, never trust it alone.
-#}
{% macro moa_file_date(url) -%}
    cast(coalesce(
        try_strptime(nullif(regexp_extract({{ url }}, '(\d{8})\.pdf$', 1), ''), '%m%d%Y'),
        try_strptime(nullif(regexp_extract({{ url }}, '(\d{2}\.\d{2}\.\d{4})\.pdf$', 1), ''), '%m.%d.%Y'),
        try_strptime(nullif(regexp_extract({{ url }}, '(\d{2}\.\d{2}\.\d{2})\.pdf$', 1), ''), '%m.%d.%y'),
        try_strptime(nullif(regexp_extract({{ url }}, '(\d{4}-\d{2}-\d{2})\.pdf$', 1), ''), '%Y-%m-%d'),
        try_strptime(nullif(regexp_extract({{ url }}, '_(\d{6})\.pdf$', 1), ''), '%m%d%y')
    ) as date)
{%- endmacro %}
