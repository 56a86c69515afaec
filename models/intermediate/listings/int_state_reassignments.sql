-- One row per listed key (state as published, canonical agency name, row key) that the
-- wrong-state rule moves to another state, with that state and the part of the rule that moved it.
-- This is the one model that decides a row's state is wrong; int_listings_state_reassigned applies it.
--
-- misfiled_row: ICE sometimes lists a row under the wrong state for a few weeks. A row is
-- moved to another state when the same agency name with the same row key (list, model, signing
-- date or county) is listed under that state in more publications, around the same time
-- (spans within var wrong_state_overlap_publications), and this state's listing of it lasted
-- var wrong_state_max_publications or less.
-- A pending row's key (model and county) is weak, since many states share county names: it is
-- moved only if the agency name has no other row at all in the state it was listed under.
--
-- misfiled_pending_spelling: an agency name listed only on pending lists of a state, for var
-- wrong_state_max_publications lists or less, while the same name is listed (on either list,
-- with a model in common) under another state within var wrong_state_window_days days of it, moves to
-- that state when the county it names does not exist in its own state but does in the other
-- ("Kershaw County Sheriff's Office" listed under Florida), or when it names no county at all
-- ("Heritage Creek Police Department", a Kentucky city, pending under Florida two days before
-- Kentucky's agreement was listed). It moves every row key of that spelling that misfiled_row
-- does not already move.
with listed as (
    select * from {{ ref('int_listings_keyed') }}
    where state_code is not null and canonical_name is not null
),

in_lineage as (
    select * from listed
    where sequence is not null
),

spans as (
    select
        state_code,
        canonical_name,
        row_key,
        any_value(list) as list,
        count(distinct sequence) as publication_count,
        min(sequence) as first_sequence,
        max(sequence) as last_sequence,
        count(*) over (partition by state_code, canonical_name) as keys_in_state
    from in_lineage
    group by state_code, canonical_name, row_key
),

row_moves as (
    select
        misfiled.state_code as from_state_code,
        misfiled.canonical_name,
        misfiled.row_key,
        usual.state_code as to_state_code,
        row_number() over (
            partition by misfiled.state_code, misfiled.canonical_name, misfiled.row_key
            order by usual.publication_count desc, usual.state_code asc
        ) as preference
    from spans as misfiled
    inner join spans as usual
        on
            misfiled.canonical_name = usual.canonical_name
            and misfiled.row_key = usual.row_key
            and misfiled.state_code <> usual.state_code
    where
        (misfiled.list = 'participating' or misfiled.keys_in_state = 1)
        and misfiled.publication_count <= {{ var('wrong_state_max_publications') }}
        and usual.publication_count > misfiled.publication_count
        and usual.first_sequence <= misfiled.last_sequence + {{ var('wrong_state_overlap_publications') }}
        and usual.last_sequence >= misfiled.first_sequence - {{ var('wrong_state_overlap_publications') }}
),

census as (
    select
        states.state_code,
        counties.county_base_name
    from {{ ref('stg_census__counties') }} as counties
    inner join {{ ref('stg_census__states') }} as states on counties.state_fips = states.state_fips
),

spellings as (
    select
        state_code,
        canonical_name,
        max({{ named_county('state_code', 'county_name', 'agency_name') }}) as named_county,
        count(distinct publication_id) as publication_count,
        bool_and(list = 'pending') as is_pending_only,
        min(published_date) as first_listed_date,
        max(published_date) as last_listed_date,
        list(distinct coalesce(support_model, 'unknown')) as support_models
    from in_lineage
    group by state_code, canonical_name
),

spelling_moves as (
    select
        misfiled.state_code as from_state_code,
        misfiled.canonical_name,
        usual.state_code as to_state_code,
        row_number() over (
            partition by misfiled.state_code, misfiled.canonical_name
            order by usual.publication_count desc, usual.state_code asc
        ) as preference
    from spellings as misfiled
    inner join spellings as usual
        on
            misfiled.canonical_name = usual.canonical_name
            and misfiled.state_code <> usual.state_code
    left join census as here
        on misfiled.state_code = here.state_code and misfiled.named_county = here.county_base_name
    left join census as there
        on usual.state_code = there.state_code and misfiled.named_county = there.county_base_name
    where
        misfiled.is_pending_only
        and misfiled.publication_count <= {{ var('wrong_state_max_publications') }}
        and usual.publication_count > misfiled.publication_count
        and len(list_intersect(misfiled.support_models, usual.support_models)) > 0
        and usual.first_listed_date <= misfiled.last_listed_date + to_days({{ var('wrong_state_window_days') }})
        and usual.last_listed_date >= misfiled.first_listed_date - to_days({{ var('wrong_state_window_days') }})
        and (
            misfiled.named_county is null
            or (here.state_code is null and there.state_code is not null)
        )
),

listed_keys as (
    -- every key listed, in lineage or not: a move applies to all rows of its key
    select distinct
        state_code,
        canonical_name,
        row_key
    from listed
)

select
    listed_keys.state_code as state_code_published,
    listed_keys.canonical_name,
    listed_keys.row_key,
    coalesce(row_moves.to_state_code, spelling_moves.to_state_code) as state_code,
    case when row_moves.to_state_code is not null then 'misfiled_row' else 'misfiled_pending_spelling' end
        as reassignment_rule
from listed_keys
left join row_moves
    on
        listed_keys.state_code = row_moves.from_state_code
        and listed_keys.canonical_name = row_moves.canonical_name
        and listed_keys.row_key = row_moves.row_key
        and row_moves.preference = 1
left join spelling_moves
    on
        listed_keys.state_code = spelling_moves.from_state_code
        and listed_keys.canonical_name = spelling_moves.canonical_name
        and spelling_moves.preference = 1
where coalesce(row_moves.to_state_code, spelling_moves.to_state_code) is not null
