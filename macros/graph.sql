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

{#-
  The lineage sequence of the newest publication of a list (publications kept out of lineage,
  such as a header-only list, do not count): "on the newest list" everywhere means this one.
-#}
{% macro newest_sequence(list_name) -%}
    (select max(lineage_sequence) from {{ ref('int_lineage_publications') }} where list = '{{ list_name }}')
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

{#- Join condition: `left` and `right` are the same pair of spellings (state_code, name_a, name_b). -#}
{% macro same_pair(left, right) -%}
    {{ left }}.state_code = {{ right }}.state_code
    and {{ left }}.name_a = {{ right }}.name_a
    and {{ left }}.name_b = {{ right }}.name_b
{%- endmacro %}

{#-
  True when two agency ids (state code, then the canonical name's words joined by hyphens) begin
  with the same words and those include a proper name: "pa-cambria-county-sheriff-office" and
  "pa-cambria-county-prison" (Cambria County), but not "fl-city-of-miami-..." and
  "fl-city-of-tampa-..." (only "city of" in common).
-#}
{% macro shares_place(id_a, id_b) -%}
    {%- set a = "string_split(" ~ id_a ~ ", '-')[2:]" -%}
    {%- set b = "string_split(" ~ id_b ~ ", '-')[2:]" -%}
    {%- set matches = "list_transform(list_zip(" ~ a ~ ", " ~ b ~ "), lambda p: coalesce(p[1] = p[2], false))" -%}
    {%- set common = "coalesce(nullif(list_position(" ~ matches ~ ", false), 0), len(" ~ a ~ ") + 1) - 1" -%}
    len(list_filter(
        {{ a }}[1:{{ common }}],
        lambda w: w not in (
            'city', 'town', 'village', 'county', 'parish', 'borough', 'township', 'of', 'the', 'and',
            'state', 'department', 'office', 'division', 'district', 'board', 'university', 'police',
            'sheriff', 'constable', 'constables'
        )
    )) > 0
{%- endmacro %}
