-- One row per purchase line of CDNOW_master.txt, typed. transaction_id is the customer
-- id and the line's number in the file (header = line 1): the file has no transaction
-- id and a customer may buy twice on one day with identical values, so the line is
-- the only deterministic key. Only built when var('dataset') = 'cdnow'. A line that
-- does not parse keeps nulls and fails the not_null tests instead of vanishing.
{{ config(enabled=var('dataset') == 'cdnow') }}

with

source as (
    select content from {{ source('cdnow', 'transactions') }}
),

numbered_lines as (
    {{ lw_numbered_lines('source', 'content') }}
),

tokenized as (
    select
        line_number,
        -- the columns are separated by runs of spaces: one space between tokens
        {{ lw_regexp_replace_all('trim(line_text)', ' +', ' ') }} as squeezed_line
    from numbered_lines
    -- line 1 is the header (customer_id date number_of_cds dollar_value); the file
    -- ends with a line break, which leaves one empty line
    where line_number > 1 and trim(line_text) <> ''
),

final as (
    select
        {{ dbt.split_part('squeezed_line', "' '", 1) }} || '-' || cast(line_number as {{ dbt.type_string() }})
            as transaction_id,
        {{ dbt.split_part('squeezed_line', "' '", 1) }} as customer_id,
        {{ lw_parse_yyyymmdd(dbt.split_part('squeezed_line', "' '", 2)) }} as transaction_date,
        {{ lw_safe_cast(dbt.split_part('squeezed_line', "' '", 3), dbt.type_int()) }} as cd_count,
        {{ lw_safe_cast(dbt.split_part('squeezed_line', "' '", 4), 'decimal(18, 2)') }} as amount,
        line_number as source_line_number
    from tokenized
)

select * from final
