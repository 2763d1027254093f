-- One row per rejected raw row of any landing table, with the reason and the
-- raw record as JSON: nothing is dropped silently. Fix the source or the rule,
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
    where reject_reason is not null
),

{% endfor %}
final as (
    {% for landing in lw_landing_tables() %}
    select * from {{ landing.source }}_rejected
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from final
