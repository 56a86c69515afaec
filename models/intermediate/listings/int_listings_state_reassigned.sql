-- One row per listing (data row of a publication) with its identity keys (int_listings_keyed) and
-- its state after the wrong-state rule (int_state_reassignments): state_code is the state the
-- row belongs to, state_code_published the one ICE listed it under; a moved row is flagged
-- state_reassigned.
with listing_keys as (
    select * from {{ ref('int_listings_keyed') }}
),

reassignments as (
    select * from {{ ref('int_state_reassignments') }}
)

select
    listing_keys.* exclude (state_code, row_flags),
    listing_keys.state_code as state_code_published,
    coalesce(reassignments.state_code, listing_keys.state_code) as state_code,
    nullif(concat_ws(
        ',',
        listing_keys.row_flags,
        case when reassignments.state_code is not null then 'state_reassigned' end
    ), '') as row_flags
from listing_keys
left join reassignments
    on
        listing_keys.state_code = reassignments.state_code_published
        and listing_keys.canonical_name = reassignments.canonical_name
        and listing_keys.row_key = reassignments.row_key
