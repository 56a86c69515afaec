-- One row per contradiction found in what ICE published (rules in models/intermediate/errata),
-- with the value as published, the evidence against it, and the reviewed correction where one
-- decided it (the cleaned columns use that correction; the published value stays in listings).
with signed_dates as (
    select * from {{ ref('int_errata_signed_dates') }}
),

moa_links as (
    select * from {{ ref('int_errata_moa_links') }}
),

listing_rows as (
    select * from {{ ref('int_errata_listing_rows') }}
),

found as (
    select
        rule,
        agreement_id,
        agency_id,
        field,
        case when field = 'moa_url' then moa_url else signed_published end as published_value,
        case rule
            when 'signed_date_impossible'
                then
                    'listed on ' || strftime(first_listed_date, '%Y-%m-%d')
                    || ': a signing date cannot lie after its list or before the program began'
                    || ' (dbt var program_start_date)'
            when 'signed_before_application'
                then
                    'its application was first on the pending list on '
                    || strftime(application_listed_date, '%Y-%m-%d') || ', '
                    || cast(application_listed_date - signed_date_read as varchar) || ' days after this signing date'
            when 'signed_after_first_listing'
                then
                    'the agreement was listed from ' || strftime(agreement_listed_date, '%Y-%m-%d')
                    || ', before this signing date'
            when 'signed_year_contradicts_moa_file' then
                case
                    when field = 'signed_date'
                        then
                            'its MOA file ' || regexp_extract(moa_url, '[^/]+$') || ' is dated '
                            || strftime(moa_file_date, '%Y-%m-%d') || ' and the agreement was first listed on '
                            || strftime(agreement_listed_date, '%Y-%m-%d')
                    else
                        'the file name is dated ' || strftime(moa_file_date, '%Y-%m-%d')
                        || ', the same day in another year than the signing date '
                        || strftime(signed_date_read, '%Y-%m-%d')
                        || ' of an agreement first listed on ' || strftime(agreement_listed_date, '%Y-%m-%d')
                end
        end as evidence,
        case when field = 'signed_date' then strftime(corrected_date, '%Y-%m-%d') end as corrected_value,
        first_listed_date,
        last_listed_date
    from signed_dates
    union all
    select
        rule,
        agreement_id,
        agency_id,
        field,
        moa_url as published_value,
        'the file ' || regexp_extract(moa_url, '[^/]+$') || ' names ' || named_agency_id
        || ', which lists it from ' || strftime(named_first_listed_date, '%Y-%m-%d') as evidence,
        null as corrected_value,
        first_listed_date,
        last_listed_date
    from moa_links
    union all
    select
        rule,
        agreement_id,
        coalesce(corrected_agency_id, agency_id) as agency_id,
        field,
        case when rule = 'row_handed_to_another_agency' then agency_id else row_numbers end as published_value,
        case rule
            when 'row_handed_to_another_agency'
                then
                    'row '
                    || cast(row_number as varchar)
                    || ' of the list of '
                    || strftime(first_listed_date, '%Y-%m-%d')
                    || ' keeps the model, signing date and MOA of ' || from_agency_id || '''s row on the list before,'
                    || ' which leaves, while ' || agency_id || ' already held another row of that model'
            else
                'rows ' || row_numbers || ' of the list of ' || strftime(first_listed_date, '%Y-%m-%d')
                || ' both list this agreement, as ' || cast(publication_count as varchar)
                || ' lists do up to ' || strftime(last_listed_date, '%Y-%m-%d')
        end as evidence,
        corrected_agency_id as corrected_value,
        first_listed_date,
        last_listed_date
    from listing_rows
)

select
    concat_ws(':', found.rule, found.agreement_id, found.field, found.published_value) as errata_id,
    found.rule,
    'agreements' as table,
    found.agreement_id as record_id,
    found.agency_id,
    agencies.state_code,
    found.field,
    found.published_value,
    found.evidence,
    found.corrected_value,
    found.first_listed_date,
    found.last_listed_date
from found
left join {{ ref('int_agency_profiles') }} as agencies on found.agency_id = agencies.agency_id
