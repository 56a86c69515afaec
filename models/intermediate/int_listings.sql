-- One row per data row of each publication (read from the publication's first snapshot), with
-- the identity inputs: canonical agency name, a key for the row's agreement or application,
-- and the state after the wrong-state rule below. `sequence` is the publication's place in
-- lineage (int_lineage_publications): null for a publication kept out of identity and lineage,
-- whose rows are still listed; the corrupted row of such a capture has no canonical name, so it
-- names no agency.
--
-- Wrong-state rule: ICE sometimes lists a row under the wrong state for a few weeks. A row is
-- moved to another state when the same agency name with the same row key (list, model, signing
-- date or county) is listed under that state in more publications, around the same time
-- (spans within var lineage_window_publications), and this state's listing of it lasted
-- var wrong_state_max_publications or less.
-- A pending row's key (model and county) is weak, since many states share county names: it is
-- moved only if the agency name has no other row at all in the state it was listed under.
-- Pending spellings filed under the wrong state: an agency name listed only on pending lists of
-- a state, for var wrong_state_max_publications lists or less, while the same name is listed
-- (on either list, with a model in common) under another state within var redate_max_days
-- days of it, moves to that state when the county it names does not exist in its own state but
-- does in the other ("Kershaw County Sheriff's Office" listed under Florida), or when it names
-- no county at all ("Heritage Creek Police Department", a Kentucky city, pending under Florida
-- two days before Kentucky's agreement was listed).
with publications as (
    select
        publications.file_sha256,
        publications.publication_id,
        publications.list,
        lineage.lineage_sequence as sequence,
        publications.sequence as publication_sequence,
        publications.published_date,
        lineage.corrupted_row_number
    from {{ ref('int_publications') }} as publications
    inner join {{ ref('int_lineage_publications') }} as lineage
        on publications.publication_id = lineage.publication_id
    where publications.is_first_snapshot
),

base as (
    select
        publications.publication_id,
        publications.sequence,
        publications.publication_sequence,
        publications.published_date,
        listing_rows.* exclude (row_flags),
        case
            when listing_rows.row_number <> coalesce(publications.corrupted_row_number, -1)
                then {{ canonical_agency_name('listing_rows.agency_name') }}
        end as canonical_name,
        nullif(concat_ws(
            ',',
            listing_rows.row_flags,
            case when listing_rows.row_number = publications.corrupted_row_number then 'corrupted_row' end
        ), '') as row_flags,
        {{ document_key('listing_rows.moa_url') }} as moa_document,
        concat_ws(
            '|',
            listing_rows.list,
            coalesce(listing_rows.support_model, 'unknown'),
            case
                when
                    listing_rows.list = 'participating'
                    then coalesce(cast(listing_rows.signed_date as varchar), 'undated')
                else coalesce(lower(listing_rows.county_name), '')
            end
        ) as row_key
    from {{ ref('int_listing_rows') }} as listing_rows
    inner join publications on listing_rows.file_sha256 = publications.file_sha256
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
    from base
    where state_code is not null and canonical_name is not null and sequence is not null
    group by state_code, canonical_name, row_key
),

moves as (
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
        and usual.first_sequence <= misfiled.last_sequence + {{ var('lineage_window_publications') }}
        and usual.last_sequence >= misfiled.first_sequence - {{ var('lineage_window_publications') }}
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
    from base
    where state_code is not null and canonical_name is not null and sequence is not null
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
        and usual.first_listed_date <= misfiled.last_listed_date + to_days({{ var('redate_max_days') }})
        and usual.last_listed_date >= misfiled.first_listed_date - to_days({{ var('redate_max_days') }})
        and (
            misfiled.named_county is null
            or (here.state_code is null and there.state_code is not null)
        )
)

select
    base.* exclude (state_code, row_flags),
    base.state_code as state_code_published,
    coalesce(moves.to_state_code, spelling_moves.to_state_code, base.state_code) as state_code,
    nullif(concat_ws(
        ',',
        base.row_flags,
        case when coalesce(moves.to_state_code, spelling_moves.to_state_code) is not null then 'state_reassigned' end
    ), '') as row_flags
from base
left join moves
    on
        base.state_code = moves.from_state_code
        and base.canonical_name = moves.canonical_name
        and base.row_key = moves.row_key
        and moves.preference = 1
left join spelling_moves
    on
        base.state_code = spelling_moves.from_state_code
        and base.canonical_name = spelling_moves.canonical_name
        and spelling_moves.preference = 1
