-- One row per agreement, signing date as read (before reviewed fixes) and errata rule that finds
-- the date contradicted by what ICE itself published:
--   signed_date_impossible: before var program_start_date, or after the list that shows it;
--   signed_year_contradicts_moa_file: the MOA file's name gives the same month and day in
--     another year; the date nearer the agreement's first listing (and not after it) is taken
--     as right, so the erratum is the signing date's or, when the file's year is wrong, the
--     file name's (field moa_url);
--   signed_before_application: the agreement's own application first reached the pending list
--     more than var application_after_signing_max_days days after the signing date;
--   signed_after_first_listing: a signing date later than the agreement's first listing (and not
--     than the list that shows it, which is signed_date_impossible).
-- corrected_date is the reviewed fix's date (seeds/fix_signed_dates.csv) where one applied.
with rows_listed as (
    select * from {{ ref('int_listings_linked') }}
    where list = 'participating' and agreement_id is not null and signed_date_read is not null
),

agreements as (
    select
        agreement_id,
        agency_id,
        first_listed_date
    from {{ ref('int_agreements') }}
),

applications as (
    select
        outcomes.agreement_id,
        min(applications.first_listed_date) as application_listed_date
    from {{ ref('int_application_outcomes') }} as outcomes
    inner join {{ ref('int_applications') }} as applications
        on outcomes.application_id = applications.application_id
    where outcomes.outcome = 'signed'
    group by outcomes.agreement_id
),

dates_read as (
    select
        agreement_id,
        signed_date_read,
        arg_min(signed_published, published_date) as signed_published,
        arg_min(moa_url, published_date) filter (where moa_url is not null) as moa_url,
        min(published_date) as first_listed_date,
        max(published_date) as last_listed_date,
        max(signed_date) filter (where signed_date <> signed_date_read) as corrected_date
    from rows_listed
    group by agreement_id, signed_date_read
),

file_dates as (
    select
        *,
        {{ moa_file_date('moa_url') }} as moa_file_date
    from dates_read
),

checked as (
    select
        dates.*,
        agreements.agency_id,
        agreements.first_listed_date as agreement_listed_date,
        applications.application_listed_date
    from file_dates as dates
    inner join agreements on dates.agreement_id = agreements.agreement_id
    left join applications on dates.agreement_id = applications.agreement_id
),

found as (
    select
        *,
        'signed_date_impossible' as rule
    from checked
    where signed_date_read < date '{{ var("program_start_date") }}' or signed_date_read > first_listed_date
    union all
    select
        *,
        'signed_year_contradicts_moa_file' as rule
    from checked
    where
        month(moa_file_date) = month(signed_date_read)
        and day(moa_file_date) = day(signed_date_read)
        and year(moa_file_date) <> year(signed_date_read)
    union all
    select
        *,
        'signed_before_application' as rule
    from checked
    where application_listed_date > signed_date_read + {{ var('application_after_signing_max_days') }}
    union all
    select
        *,
        'signed_after_first_listing' as rule
    from checked
    where signed_date_read > agreement_listed_date and signed_date_read <= first_listed_date
)

select
    agreement_id,
    agency_id,
    rule,
    case
        when
            rule = 'signed_year_contradicts_moa_file'
            and (
                moa_file_date > agreement_listed_date
                or agreement_listed_date - moa_file_date >= agreement_listed_date - signed_date_read
            )
            then 'moa_url'
        else 'signed_date'
    end as field,
    signed_date_read,
    signed_published,
    moa_url,
    moa_file_date,
    application_listed_date,
    agreement_listed_date,
    first_listed_date,
    last_listed_date,
    corrected_date
from found
