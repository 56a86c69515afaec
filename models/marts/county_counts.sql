-- One row per list, state, county, support model and run of consecutive publications of that list
-- in which that many rows were listed there: counts by county as spans, as listings are, so that a
-- new list adds rows only where a county's count changed (int_publication_counts counts them).
with runs as (
    -- consecutive sequences with one count share sequence - row_number
    select
        *,
        sequence - row_number() over (
            partition by list, state_code, county_fips, support_model, count order by sequence
        ) as run
    from {{ ref('int_publication_counts') }}
),

newest as (
    select
        list,
        max(sequence) as sequence
    from {{ ref('publications') }}
    group by list
)

select
    runs.list,
    runs.state_code,
    runs.county_fips,
    runs.support_model,
    runs.count,
    arg_min(runs.publication_id, runs.sequence) as first_publication_id,
    min(runs.published_date) as first_published_date,
    -- empty while the newest list still has this count: a line changes when the count does
    case when max(runs.sequence) < any_value(newest.sequence) then arg_max(runs.publication_id, runs.sequence) end
        as last_publication_id,
    case when max(runs.sequence) < any_value(newest.sequence) then max(runs.published_date) end
        as last_published_date
from runs
inner join newest on runs.list = newest.list
group by runs.list, runs.state_code, runs.county_fips, runs.support_model, runs.count, runs.run
