-- One row per data row of each publication (read from the publication's first snapshot), with
-- the identity inputs: canonical agency name, a key for the row's agreement or application,
-- and the state after the wrong-state rule below.
--
-- Wrong-state rule: ICE sometimes lists a row under the wrong state for a few weeks. A row is
-- moved to another state when the same agency name with the same row key (list, model, signing
-- date or county) is listed under that state in more publications, around the same time
-- (spans within 3 publications), and this state's listing of it lasted 10 publications or less.
-- A pending row's key (model and county) is weak, since many states share county names: it is
-- moved only if the agency name has no other row at all in the state it was listed under.
with publications as (
    select
        file_sha256,
        publication_id,
        list,
        sequence,
        published_date
    from {{ ref('int_publications') }}
    where is_first_snapshot
),

base as (
    select
        publications.publication_id,
        publications.sequence,
        publications.published_date,
        listing_rows.*,
        {{ canonical_agency_name('listing_rows.agency_name') }} as canonical_name,
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
    where state_code is not null and canonical_name is not null
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
        and misfiled.publication_count <= 10
        and usual.publication_count > misfiled.publication_count
        and usual.first_sequence <= misfiled.last_sequence + 3
        and usual.last_sequence >= misfiled.first_sequence - 3
)

select
    base.* exclude (state_code, row_flags),
    base.state_code as state_code_published,
    coalesce(moves.to_state_code, base.state_code) as state_code,
    nullif(concat_ws(
        ',',
        base.row_flags,
        case when moves.to_state_code is not null then 'state_reassigned' end
    ), '') as row_flags
from base
left join moves
    on
        base.state_code = moves.from_state_code
        and base.canonical_name = moves.canonical_name
        and base.row_key = moves.row_key
        and moves.preference = 1
