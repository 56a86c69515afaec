-- One row per pending application (agency and model, over a run of pending lists).
-- Outcome: pending while on the newest pending list; signed when an agreement listed under the
-- same agency and model (any model if the application named none) was first listed between the
-- application's first listing and 60 days after its last; withdrawn otherwise.
with applications as (
    select * from {{ ref('int_applications') }}
),

newest as (
    select max(sequence) as sequence from {{ ref('int_publications') }}
    where list = 'pending'
),

listed_under as (
    -- every agency an agreement was listed under, so re-attributed agreements still match
    select distinct
        agreement_id,
        agency_id,
        support_model
    from {{ ref('int_agreements') }}
),

matches as (
    select
        applications.application_id,
        arg_min(
            agreements.agreement_id, struct_pack(d := agreements.first_listed_date, i := agreements.agreement_id)
        ) as agreement_id
    from applications
    inner join listed_under
        on
            applications.agency_id = listed_under.agency_id
            and (applications.support_model = listed_under.support_model or applications.support_model = 'unknown')
    inner join {{ ref('agreements') }} as agreements
        on listed_under.agreement_id = agreements.agreement_id
    where
        agreements.first_listed_date between applications.first_listed_date
        and applications.last_listed_date + interval 60 day
    group by applications.application_id
)

select
    applications.application_id,
    applications.agency_id,
    applications.support_model,
    applications.first_listed_date,
    applications.last_listed_date,
    case
        when applications.last_sequence = newest.sequence then 'pending'
        when matches.agreement_id is not null then 'signed'
        else 'withdrawn'
    end as outcome,
    case when applications.last_sequence < newest.sequence then matches.agreement_id end as agreement_id,
    cast(applications.last_sequence - applications.first_sequence + 1 as integer) as publication_span
from applications
cross join newest
left join matches on applications.application_id = matches.application_id
