-- One row per signed agreement (agency, support model, signing date): its listed versions
-- (int_agreement_versions) rolled up, the latest listed agency, date and MOA link first.
with versions as (
    select * from {{ ref('int_agreement_versions') }}
)

select
    agreement_id,
    arg_max(agency_id, last_sequence) as agency_id,
    any_value(support_model) as support_model,
    arg_max(signed_date, last_sequence) as signed_date,
    arg_max(moa_url, last_sequence) filter (where moa_url is not null) as moa_url,
    min(first_listed_date) as first_listed_date,
    max(last_listed_date) as last_listed_date,
    min(first_sequence) as first_sequence,
    max(last_sequence) as last_sequence,
    string_agg(distinct cast(signed_date as varchar), ' | ' order by cast(signed_date as varchar))
        as signed_dates_listed,
    bool_or(was_redated) as is_redated,
    string_agg(distinct agency_id, ' | ' order by agency_id) as agency_ids_listed
from versions
group by agreement_id
