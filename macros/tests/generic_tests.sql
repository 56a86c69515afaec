{#- Rows whose combination of `columns` is not unique (a composite primary key). -#}
{% test unique_combination(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{#- Groups whose sum of `column_name` differs from the matching row of another model. -#}
{% test sums_to(model, column_name, group_by, to, to_column) %}
    with sums as (
        select {{ group_by }} as group_key, sum({{ column_name }}) as total
        from {{ model }}
        group by {{ group_by }}
    )
    select parent.{{ group_by }}, parent.{{ to_column }}, sums.total
    from {{ to }} as parent
    left join sums on parent.{{ group_by }} = sums.group_key
    where coalesce(sums.total, 0) <> parent.{{ to_column }}
{% endtest %}

{#- Rows where `column_name` is earlier than `other` (both present). -#}
{% test not_before(model, column_name, other) %}
    select *
    from {{ model }}
    where {{ column_name }} < {{ other }}
{% endtest %}
