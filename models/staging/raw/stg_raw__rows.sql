-- One row per data row (header rows dropped): every layout's columns mapped to one vocabulary,
-- text kept as published beside its cleaned form. No lookups here: see the int_ models.
with rows as (
    select
        file_sha256,
        sheet_index,
        sheet_name,
        row_number,
        {{ cell('cells', 'STATE') }} as state_cell,
        {{ cell('cells', 'LAW ENFORCEMENT AGENCY') }} as agency_cell,
        {{ cell('cells', 'TYPE') }} as agency_type_cell,
        {{ cell('cells', 'COUNTY') }} as county_cell,
        {{ cell('cells', 'SUPPORT TYPE') }} as support_type_cell,
        {{ cell('cells', 'SIGNED') }} as signed_cell,
        {{ cell('cells', 'MOA') }} as moa_cell,
        {{ cell('cells', 'ADDENDUM') }} as addendum_cell,
        {{ cell('cells', 'EXTRACTED LINK') }} as extracted_link_cell
    from {{ source('raw', 'raw_rows') }}
    where not is_header
),

published as (
    select
        file_sha256,
        sheet_index,
        sheet_name,
        row_number,
        state_cell.text as state_published,
        agency_cell.text as agency_name_published,
        agency_type_cell.text as agency_type_published,
        county_cell.text as county_published,
        support_type_cell.text as support_type_published,
        signed_cell.text as signed_published,
        signed_cell.kind as signed_kind,
        moa_cell.text as moa_published,
        -- The link as published: the cell's hyperlink, else a link column an archive added,
        -- else the cell text itself (the Wayback-era tables held the URL as text).
        coalesce(moa_cell.hyperlink, extracted_link_cell.text, moa_cell.text) as moa_link_published,
        addendum_cell.text as addendum_published,
        coalesce(addendum_cell.hyperlink, addendum_cell.text) as addendum_link_published
    from rows
)

select
    *,
    upper({{ clean_text('state_published') }}) as state_name,
    {{ clean_text('agency_name_published') }} as agency_name,
    upper({{ clean_text('agency_type_published') }}) as agency_type_name,
    {{ clean_text('county_published') }} as county_name,
    upper({{ clean_text('support_type_published') }}) as support_type_name,
    {{ parse_published_date('signed_published', 'signed_kind') }} as signed_date,
    {{ published_date_method('signed_published', 'signed_kind') }} as signed_date_method,
    {{ web_url('moa_link_published') }} as moa_url,
    {{ web_url('addendum_link_published') }} as addendum_url,
    lower({{ clean_text('moa_published') }}) = 'link pending' as is_moa_link_pending
from published
