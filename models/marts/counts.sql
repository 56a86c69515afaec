-- One row per publication, state and support model: the time series of listed rows.
-- state_code and support_model are key columns, which cannot be empty: rows whose state could not
-- be mapped or whose list named no model are counted under 'unknown' (the schema says so).
select
    publication_id,
    list,
    published_date,
    state_code,
    support_model,
    cast(sum(count) as integer) as count
from {{ ref('int_publication_counts') }}
group by all
