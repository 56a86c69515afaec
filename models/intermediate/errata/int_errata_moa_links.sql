-- One row per agreement and MOA link that names another agency (rule moa_link_of_another_agency):
-- the link is listed for two or more agreements, its file's name names the agency of another of
-- them, and it does not name this agreement's agency. A file names an agency when the words of
-- the file's name and of the agency's canonical name that name a place or body match both ways,
-- each word of one the start of a word of the other ("Environ" names "environmental"); the
-- words of var moa_file_generic_words and words of one or two letters are left out.
{%- set generic_words = "('" ~ var('moa_file_generic_words') | join("', '") ~ "')" %}
with rows_listed as (
    select * from {{ ref('int_listings_linked') }}
    where list = 'participating' and agreement_id is not null and moa_url is not null
),

links as (
    select
        rows_listed.moa_url,
        rows_listed.agreement_id,
        agreements.agency_id,
        min(rows_listed.published_date) as first_listed_date,
        max(rows_listed.published_date) as last_listed_date
    from rows_listed
    inner join {{ ref('int_agreements') }} as agreements on rows_listed.agreement_id = agreements.agreement_id
    group by rows_listed.moa_url, rows_listed.agreement_id, agreements.agency_id
),

shared_urls as (
    select moa_url from links
    group by moa_url
    having count(distinct agency_id) > 1
),

shared as (
    select links.* from links
    inner join shared_urls on links.moa_url = shared_urls.moa_url
),

file_words as (
    select distinct
        moa_url,
        unnest(
            string_split(
                lower(regexp_replace(
                    regexp_replace(
                        split_part(
                            regexp_replace(
                                regexp_extract(moa_url, '([^/]+?)(\.[A-Za-z]+)?$', 1), '^287g[A-Za-z]*_', ''
                            ),
                            '_',
                            1
                        ),
                        '([a-z])([A-Z])', '\1 \2', 'g'
                    ),
                    '[^A-Za-z ]+', ' ', 'g'
                )),
                ' '
            )
        ) as word
    from shared
),

agency_words as (
    select distinct
        agencies.agency_id,
        unnest(string_split(regexp_replace(agencies.agency_canonical_name, '[^a-z ]+', ' ', 'g'), ' ')) as word
    from {{ ref('int_agency_spellings_resolved') }} as agencies
    where agencies.agency_id in (select shared.agency_id from shared)
),

naming_words as (
    select
        'file' as side,
        moa_url as word_of,
        word
    from file_words
    where
        length(word) > 2
        and word not in {{ generic_words }}
    union all
    select
        'agency' as side,
        agency_id as word_of,
        word
    from agency_words
    where
        length(word) > 2
        and word not in {{ generic_words }}
),

pairs as (
    select distinct
        moa_url,
        agency_id
    from shared
),

unmatched as (
    select
        pairs.moa_url,
        pairs.agency_id,
        words.side
    from pairs
    inner join naming_words as words
        on
            (words.side = 'file' and pairs.moa_url = words.word_of)
            or (words.side = 'agency' and pairs.agency_id = words.word_of)
    where not exists (
        select 1 from naming_words as other
        where
            other.side <> words.side
            and other.word_of = case when words.side = 'file' then pairs.agency_id else pairs.moa_url end
            and (starts_with(other.word, words.word) or starts_with(words.word, other.word))
    )
),

named as (
    select
        pairs.moa_url,
        pairs.agency_id,
        not exists (
            select 1 from unmatched
            where unmatched.moa_url = pairs.moa_url and unmatched.agency_id = pairs.agency_id
        ) as is_named
    from pairs
)

select
    shared.agreement_id,
    shared.agency_id,
    'moa_link_of_another_agency' as rule,
    'moa_url' as field,
    shared.moa_url,
    arg_min(named_by.agency_id, named_by.first_listed_date) as named_agency_id,
    min(named_by.first_listed_date) as named_first_listed_date,
    shared.first_listed_date,
    shared.last_listed_date
from shared
inner join named on shared.moa_url = named.moa_url and shared.agency_id = named.agency_id
inner join shared as named_by on shared.moa_url = named_by.moa_url and shared.agency_id <> named_by.agency_id
inner join named as named_by_named
    on named_by.moa_url = named_by_named.moa_url and named_by.agency_id = named_by_named.agency_id
where not named.is_named and named_by_named.is_named
group by shared.agreement_id, shared.agency_id, shared.moa_url, shared.first_listed_date, shared.last_listed_date
