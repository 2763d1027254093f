-- One row per distinct rejected raw row of any landing table, with the reason and
-- the raw record as JSON: nothing is dropped silently. Exact copies of a rejected row
-- (a file delivered twice) are kept once and counted as duplicates in
-- stg_landing__row_counts, like duplicates of valid rows. Fix the source or the rule,
-- then rebuild; rows reappear in staging once they pass.
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
rejected as (
    {% for landing in lw_landing_tables() %}
    select * from {{ landing.source }}_rejected
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
