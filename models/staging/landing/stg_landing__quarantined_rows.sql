-- One row per distinct rejected raw row of any landing table, with the reason and
-- the raw record as JSON: nothing is dropped silently. Exact copies of a rejected row
-- (a file delivered twice) are kept once and counted as duplicates in
-- stg_landing__row_counts, like duplicates of valid rows. Fix the source or the rule,
-- then rebuild; rows reappear in staging once they pass. Lines of a demo source's
-- CSV / JSON files that cannot be read as a row at all (lw_landing_rows: not UTF-8, too
-- long, a malformed CSV row or JSON object) are quarantined here too, with the file and
-- the line as raw_record.
with

{% for landing in lw_landing_tables() %}
{{ landing.source }}_rejected as (
    select
        '{{ landing.source }}' as source,
        {{ landing.key }} as record_key,
        reject_reason,
        loaded_at,
        raw_record
    from {{ ref(landing.base) }}
    where reject_reason is not null{% if landing.filter %} and {{ landing.filter }}{% endif %}
),

{% endfor %}
{% for landing in lw_landing_tables() %}
{{ landing.source }}_unreadable as (
    select
        '{{ landing.source }}' as source,
        cast(null as {{ dbt.type_string() }}) as record_key,
        unreadable_lines.reject_reason,
        cast(null as timestamp) as loaded_at,
        {{ lw_columns_to_json('unreadable_lines', ['_file', '_line']) }} as raw_record
    from {{ lw_unreadable_lines(landing) }}
),

{% endfor %}
{%- set parts = [] %}
{%- for landing in lw_landing_tables() %}
{%- do parts.append(landing.source ~ '_rejected') %}
{%- do parts.append(landing.source ~ '_unreadable') %}
{%- endfor %}
rejected as (
    {% for part in parts %}
    select * from {{ part }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

deduplicated as (
    {{ lw_deduplicate('rejected', 'source, raw_record', 'loaded_at, record_key') }}
),

final as (
    select
        source,
        record_key,
        reject_reason,
        loaded_at,
        raw_record
    from deduplicated
)

select * from final
