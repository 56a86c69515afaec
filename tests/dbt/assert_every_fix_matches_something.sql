-- Warns about every reviewed fix that no longer matches anything: a stale fix means the archive
-- or the rules changed and the fix needs review.
{{ config(severity='warn') }}

select *
from {{ ref('int_fix_usage') }}
where match_count = 0
