{#-
  Two CTEs (to place inside a `with recursive`): `both_ways`, the undirected edges of `edges`
  (columns node_a, node_b), and `reach`, every (node, member) pair where member is connected to
  node. `nodes` must have a column `node`. Used to merge spellings and agreement versions into
  connected groups.
-#}
{% macro reach_ctes(nodes, edges) -%}
both_ways as (
    select
        node_a as node,
        node_b as neighbour
    from {{ edges }}
    union
    select
        node_b as node,
        node_a as neighbour
    from {{ edges }}
),

reach (node, member) as (
    select
        node,
        node as member
    from {{ nodes }}
    union
    select
        reach.node,
        both_ways.neighbour as member
    from reach
    inner join both_ways on reach.member = both_ways.node
)
{%- endmacro %}

{#- The sequence number of the newest publication of a list. -#}
{% macro newest_sequence(list_name) -%}
    (select max(sequence) from {{ ref('int_publications') }} where list = '{{ list_name }}')
{%- endmacro %}

{#- Pairs of spellings (name_a < name_b) in one state whose listings share a value of `column`. -#}
{% macro spellings_sharing(listings, column) -%}
    select distinct
        a.state_code,
        a.canonical_name as name_a,
        b.canonical_name as name_b
    from {{ listings }} as a
    inner join {{ listings }} as b
        on
            a.state_code = b.state_code
            and a.{{ column }} = b.{{ column }}
            and a.canonical_name < b.canonical_name
{%- endmacro %}
