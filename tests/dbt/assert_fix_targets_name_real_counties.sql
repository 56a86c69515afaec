-- A reviewed spelling (the target of a seeds/fix_agency_names.csv row) that names a county must
-- name one that exists in its state: a fix must never map one typo onto another ("Berrian").
select
    state_code,
    agency_name
from {{ ref('fix_agency_names') }}
where not {{ names_known_county('state_code', 'null', 'agency_name') }}
