-- One row per contradiction in how a list's rows name agencies:
--   row_handed_to_another_agency: from one list of lineage to the next, a row keeps its model,
--     signing date (as published) and MOA link but names another agency, the agency it named
--     leaves that model's rows, and the agency it now names already held another row of that
--     model on the list before (an agency renamed in place holds no other row: Franklin County's
--     sheriff becoming "County of Franklin / Franklin County Jail" is not found);
--   agency_listed_twice: one agreement on two or more rows of one list.
-- The agency of a row is read from its name as published (canonical_name_read), before any row
-- fix; corrected_agency_id is the agency a reviewed fix (seeds/fix_listing_agencies.csv) gave it.
with rows_listed as (
    select
        linked.*,
        lineage.lineage_sequence,
        spellings.agency_id as agency_id_read
    from {{ ref('int_listings_linked') }} as linked
    inner join {{ ref('int_lineage_publications') }} as lineage on linked.publication_id = lineage.publication_id
    left join {{ ref('int_agency_spellings_resolved') }} as spellings
        on linked.state_code = spellings.state_code and linked.canonical_name_read = spellings.canonical_name
    where linked.list = 'participating' and lineage.lineage_sequence is not null
),

handovers as (
    select
        later_row.agreement_id,
        later_row.agency_id_read as agency_id,
        later_row.agency_id as corrected_agency_id,
        earlier.agency_id_read as from_agency_id,
        later_row.support_model,
        later_row.signed_published,
        later_row.moa_url,
        later_row.published_date as first_listed_date,
        later_row.row_number
    from rows_listed as earlier
    inner join rows_listed as later_row
        on
            later_row.lineage_sequence = earlier.lineage_sequence + 1
            and earlier.state_code = later_row.state_code
            and earlier.support_model = later_row.support_model
            and earlier.signed_published = later_row.signed_published
            and earlier.moa_url = later_row.moa_url
            and earlier.agency_id_read <> later_row.agency_id_read
    where
        not exists (
            select 1 from rows_listed as gone
            where
                gone.lineage_sequence = later_row.lineage_sequence
                and gone.agency_id_read = earlier.agency_id_read
                and gone.support_model = earlier.support_model
        )
        and exists (
            select 1 from rows_listed as held
            where
                held.lineage_sequence = earlier.lineage_sequence
                and held.agency_id_read = later_row.agency_id_read
                and held.support_model = later_row.support_model
                and held.signed_published is distinct from later_row.signed_published
        )
),

handed_rows as (
    select
        handovers.*,
        (
            select max(later.published_date) from rows_listed as later
            where
                later.agency_id_read = handovers.agency_id
                and later.support_model = handovers.support_model
                and later.signed_published = handovers.signed_published
                and later.moa_url = handovers.moa_url
        ) as last_listed_date
    from handovers
),

doubled as (
    select
        agreement_id,
        publication_id,
        published_date,
        string_agg(cast(row_number as varchar), ' and ' order by row_number) as row_numbers
    from rows_listed
    where agreement_id is not null
    group by agreement_id, publication_id, published_date
    having count(*) > 1
)

select
    agreement_id,
    agency_id,
    'row_handed_to_another_agency' as rule,
    'agency_id' as field,
    from_agency_id,
    nullif(corrected_agency_id, agency_id) as corrected_agency_id,
    row_number,
    cast(null as varchar) as row_numbers,
    cast(null as integer) as publication_count,
    first_listed_date,
    last_listed_date
from handed_rows
union all
select
    doubled.agreement_id,
    agreements.agency_id,
    'agency_listed_twice' as rule,
    'row_number' as field,
    null as from_agency_id,
    null as corrected_agency_id,
    null as row_number,
    arg_min(doubled.row_numbers, doubled.published_date) as row_numbers,
    cast(count(*) as integer) as publication_count,
    min(doubled.published_date) as first_listed_date,
    max(doubled.published_date) as last_listed_date
from doubled
inner join {{ ref('int_agreements') }} as agreements on doubled.agreement_id = agreements.agreement_id
group by doubled.agreement_id, agreements.agency_id
