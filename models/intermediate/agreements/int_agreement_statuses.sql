-- One row per agreement: its status and the rule that decided it. Active on the newest
-- participating list (rule on_newest_list); superseded when a later-signed agreement of the same
-- agency and model was first listed while it was listed or soon after it left: within var
-- successor_window_publications lists (successor_within_lists; the Wayback era has weeks between
-- lists) or var successor_window_days days (successor_within_days; ICE sometimes takes an old MOA
-- down days before posting the new); else removed (no_successor).
with agreements as (
    select * from {{ ref('int_agreements') }}
),

successors as (
    select
        previous.agreement_id,
        arg_min(successor.agreement_id, struct_pack(d := successor.signed_date, i := successor.agreement_id))
            as superseded_by,
        bool_or(successor.first_sequence <= previous.last_sequence + {{ var('successor_window_publications') }})
            as is_within_lists
    from agreements as previous
    inner join agreements as successor
        on
            previous.agency_id = successor.agency_id
            and previous.support_model = successor.support_model
            and previous.agreement_id <> successor.agreement_id
            and previous.signed_date < successor.signed_date
            and previous.first_sequence < successor.first_sequence
            and (
                successor.first_sequence <= previous.last_sequence + {{ var('successor_window_publications') }}
                or successor.first_listed_date
                <= previous.last_listed_date + to_days({{ var('successor_window_days') }})
            )
    group by previous.agreement_id
)

select
    agreements.agreement_id,
    case
        when agreements.last_sequence = {{ newest_sequence('participating') }} then 'active'
        when successors.superseded_by is not null then 'superseded'
        else 'removed'
    end as status,
    case
        when agreements.last_sequence = {{ newest_sequence('participating') }} then 'on_newest_list'
        when successors.is_within_lists then 'successor_within_lists'
        when successors.superseded_by is not null then 'successor_within_days'
        else 'no_successor'
    end as status_rule,
    case
        when agreements.last_sequence < {{ newest_sequence('participating') }} then successors.superseded_by
    end as superseded_by
from agreements
left join successors on agreements.agreement_id = successors.agreement_id
