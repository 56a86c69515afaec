-- One row per non-empty sheet: its detected layout and which kind of list that layout holds.
select
    file_sha256,
    sheet_index,
    sheet_name,
    layout,
    "list" as sheet_list,
    "list" in ('participating', 'pending') as is_list_sheet,
    header_row_number,
    header as header_as_published,
    data_row_count
from {{ source('raw', 'raw_sheets') }}
