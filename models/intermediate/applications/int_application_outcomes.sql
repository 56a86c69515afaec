-- One row per pending application: its outcome and the agreement it led to. Pending while on the
-- newest pending list; signed when an agreement listed under the same agency and model (any model
-- if the application named none) was first listed between the application's first listing and
-- var application_signing_window_days days after its last; already_participating when none came
-- but the agency already held an agreement of that model: first listed before the application and
-- listed again on or after its first listing (ICE listed a renewal, forgot to take the application
-- down, or moved a row between its lists); signed_other_model when instead an agreement of another
-- model was first listed in that window (the pending list named one model, the MOA another);
-- withdrawn otherwise.
with applications as (
    select * from {{ ref('int_applications') }}
),

newest as (
    select {{ newest_sequence('pending') }} as sequence
),

listed_agreements as (
    select
        agreement_id,
        min(first_listed_date) as first_listed_date,
        max(last_listed_date) as last_listed_date
    from {{ ref('int_agreement_versions') }}
    group by agreement_id
),

listed_under as (
    -- every agency an agreement was listed under, so re-attributed agreements still match
    select distinct
        agreement_id,
        agency_id,
        support_model
    from {{ ref('int_agreement_versions') }}
),

matches as (
    -- agreements of the agency first listed in the signing window, the applied-for model first
    select
        applications.application_id,
        arg_min(
            agreements.agreement_id,
            struct_pack(
                o := not (applications.support_model in (listed_under.support_model, 'unknown')),
                d := agreements.first_listed_date,
                i := agreements.agreement_id
            )
        ) as agreement_id,
        bool_or(applications.support_model in (listed_under.support_model, 'unknown')) as is_same_model
    from applications
    inner join listed_under on applications.agency_id = listed_under.agency_id
    inner join listed_agreements as agreements
        on listed_under.agreement_id = agreements.agreement_id
    where
        agreements.first_listed_date between applications.first_listed_date
        and applications.last_listed_date + to_days({{ var('application_signing_window_days') }})
    group by applications.application_id
),

held as (
    select
        applications.application_id,
        min(agreements.agreement_id) as agreement_id
    from applications
    inner join listed_under
        on
            applications.agency_id = listed_under.agency_id
            and (applications.support_model = listed_under.support_model or applications.support_model = 'unknown')
    inner join listed_agreements as agreements
        on listed_under.agreement_id = agreements.agreement_id
    where
        agreements.first_listed_date < applications.first_listed_date
        and agreements.last_listed_date >= applications.first_listed_date
    group by applications.application_id
)

select
    applications.application_id,
    case
        when applications.last_sequence = newest.sequence then 'pending'
        when matches.is_same_model then 'signed'
        when held.agreement_id is not null then 'already_participating'
        when matches.agreement_id is not null then 'signed_other_model'
        else 'withdrawn'
    end as outcome,
    case
        when applications.last_sequence = newest.sequence then null
        when matches.is_same_model then matches.agreement_id
        else coalesce(held.agreement_id, matches.agreement_id)
    end as agreement_id
from applications
cross join newest
left join matches on applications.application_id = matches.application_id
left join held on applications.application_id = held.application_id
