-- One row per agreement and period of continuous listing: a run of consecutive participating
-- publications (in lineage order, see int_lineage_publications) that all listed the agreement.
-- "Was agreement X listed on date D?" is: some period has first_listed_date <= D and either no
-- delisted_date or D < delisted_date. While a period is open (the agreement is on the newest
-- list), its last and delisted columns are empty, so the line does not change with each list.
select
    agreement_id,
    period_number,
    first_publication_id,
    first_listed_date,
    case when delisted_publication_id is not null then last_publication_id end as last_publication_id,
    case when delisted_publication_id is not null then last_listed_date end as last_listed_date,
    delisted_publication_id,
    delisted_date
from {{ ref('int_agreement_periods') }}
