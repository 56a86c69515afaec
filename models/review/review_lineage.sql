-- One row per claim that something left the program: every removed or superseded agreement and
-- every withdrawn application, with the evidence a person needs to audit it in seconds (written to
-- build/review/lineage_review.csv): the last list that showed it, and the best candidate for
-- "it is still there under another name or date": the agreement of the same state and model
-- (any model for an application) listed after it left, first listed at most
-- review_candidate_window_days later: the same agency first, then one of the same place (macro
-- shares_place), then the most similar name; with that similarity and the gap in days.
with agencies as (
    select
        agency_id,
        state_code,
        agency_name,
        lower(agency_name) as name_key
    from {{ ref('agencies') }}
),

agreements as (
    select
        agreements.*,
        agencies.state_code,
        agencies.agency_name,
        agencies.name_key
    from {{ ref('agreements') }} as agreements
    inner join agencies on agreements.agency_id = agencies.agency_id
),

claims as (
    select
        'agreement' as kind,
        agreement_id as claim_id,
        status as claim,
        agency_id,
        state_code,
        agency_name,
        name_key,
        support_model,
        signed_date,
        first_listed_date,
        last_listed_date,
        superseded_by as linked_agreement_id
    from agreements
    where status in ('removed', 'superseded')
    union all
    select
        'application' as kind,
        applications.application_id as claim_id,
        applications.outcome as claim,
        applications.agency_id,
        agencies.state_code,
        agencies.agency_name,
        agencies.name_key,
        applications.support_model,
        null as signed_date,
        applications.first_listed_date,
        applications.last_listed_date,
        null as linked_agreement_id
    from {{ ref('applications') }} as applications
    inner join agencies on applications.agency_id = agencies.agency_id
    where applications.outcome = 'withdrawn'
),

candidates as (
    select
        claims.claim_id,
        candidate.agreement_id as candidate_agreement_id,
        candidate.agency_name as candidate_agency_name,
        candidate.support_model as candidate_support_model,
        candidate.signed_date as candidate_signed_date,
        candidate.first_listed_date as candidate_first_listed_date,
        candidate.status as candidate_status,
        round(jaro_winkler_similarity(claims.name_key, candidate.name_key), 3) as candidate_similarity,
        datediff('day', claims.last_listed_date, candidate.first_listed_date) as candidate_gap_days,
        row_number() over (
            partition by claims.claim_id
            order by
                candidate.agency_id = claims.agency_id desc,
                {{ shares_place('claims.agency_id', 'candidate.agency_id') }} desc,
                jaro_winkler_similarity(claims.name_key, candidate.name_key) desc,
                candidate.agreement_id
        ) as preference
    from claims
    inner join agreements as candidate
        on
            claims.state_code = candidate.state_code
            and claims.claim_id <> candidate.agreement_id
            and (claims.support_model = candidate.support_model or claims.kind = 'application')
            -- an empty last_listed_date: still listed
            and claims.last_listed_date <= coalesce(candidate.last_listed_date, date '9999-12-31')
            and candidate.first_listed_date
            <= claims.last_listed_date + to_days({{ var('review_candidate_window_days') }})
)

select
    claims.*,
    candidates.* exclude (candidates.claim_id, candidates.preference)
from claims
left join candidates on claims.claim_id = candidates.claim_id and candidates.preference = 1
