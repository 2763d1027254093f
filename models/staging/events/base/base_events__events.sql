-- One row per raw row of every declared event source (var event_sources,
-- docs/sources.md): typed from the declaration's column mapping, mapped to the
-- taxonomy (seeds/event_taxonomy.csv rows of the source's `taxonomy`), identifiers
-- typed in the declared order of precedence (identifier_1 … identifier_5), validated.
-- reject_reason is null for rows fit for staging; the first failing check wins.
{{ config(enabled=var('event_sources') | length > 0) }}
{%- set declared_sources = var('event_sources') %}
with

country_codes as (
    select * from {{ ref('country_codes') }}
),

seed_taxonomy as (
    select * from {{ ref('event_taxonomy') }}
),

-- a source's own event_names mapping (its declaration) joins the seed's rows
taxonomy as (
    select
        source,
        source_event_name,
        event_name,
        event_category,
        channel,
        is_user_initiated
    from seed_taxonomy
    -- a source mapping its own names does not also take seed rows of its name
    where source not in (
        '{{ (declared_sources | selectattr('event_names') | map(attribute='name') | list + ['']) | join("', '") }}'
    )
    {%- for declared in declared_sources if declared.get('event_names') %}
    {%- for source_event_name, mapping in declared.event_names.items() %}
    union all
    select
        '{{ declared.name }}' as source,
        '{{ source_event_name | replace("'", "''") }}' as source_event_name,
        '{{ mapping.event_name }}' as event_name,
        '{{ mapping.event_category }}' as event_category,
        '{{ mapping.channel }}' as channel,
        {{ 'true' if mapping.is_user_initiated else 'false' }} as is_user_initiated
    {%- endfor %}
    {%- endfor %}
),

{% for declared in declared_sources %}
{%- set columns = declared.columns -%}
{{ declared.name }}_raw as (
    {{ lw_declared_read(declared) }}
),

{{ declared.name }}_typed as (
    select
        '{{ declared.name }}' as source,
        '{{ declared.taxonomy }}' as taxonomy,
        {{ lw_mapped(columns.event_id) }} as event_id,
        {{ lw_mapped(columns.event_name) }} as source_event_name,
        {{ lw_mapped_timestamp(columns.occurred_at) }} as event_at,
        -- no load time declared: an event counts as loaded when it happened
        {{ lw_mapped_timestamp(columns.get('loaded_at') or columns.occurred_at) }} as loaded_at,
        {{ lw_mapped(columns.get('device')) or 'cast(null as ' ~ dbt.type_string() ~ ')' }} as device,
        {{ 'true' if columns.get('loaded_at') else 'false' }} as has_load_time,
        {{ lw_declared_identifiers(declared.identifiers, calling_codes='country_codes') }},
        {{ lw_columns_to_json('raw', declared.options.columns) }} as raw_json
    from {{ declared.name }}_raw as raw
),

{% endfor %}
unioned as (
    {% for declared in declared_sources %}
    select * from {{ declared.name }}_typed
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

validated as (
    select
        unioned.*,
        unioned.source || ':' || unioned.event_id as event_key,
        taxonomy.event_name,
        taxonomy.event_category,
        taxonomy.channel,
        taxonomy.is_user_initiated,
        case
            when unioned.event_id is null then 'missing_event_id'
            when unioned.is_malformed_identifier then 'malformed_identifier'
            when coalesce(
                unioned.identifier_1, unioned.identifier_2, unioned.identifier_3,
                unioned.identifier_4, unioned.identifier_5
            ) is null then 'missing_identifier'
            when taxonomy.event_name is null then 'unknown_event_name'
            when unioned.event_at is null or unioned.loaded_at is null then 'unparseable_timestamp'
            when {{ lw_is_future_timestamp('unioned.event_at', 'unioned.loaded_at') }} then 'future_timestamp'
            when {{ lw_is_before_min_event_date('unioned.event_at') }} then 'timestamp_before_min_event_date'
        end as reject_reason
    from unioned
    left join taxonomy
        on
            unioned.taxonomy = taxonomy.source
            and unioned.source_event_name = taxonomy.source_event_name
),

-- the raw row is kept for rejected rows only (quarantine); record_hash breaks ties
final as (
    select
        source,
        taxonomy,
        event_key,
        event_id,
        source_event_name,
        event_name,
        event_category,
        channel,
        is_user_initiated,
        event_at,
        loaded_at,
        device,
        has_load_time,
        identifier_1,
        identifier_2,
        identifier_3,
        identifier_4,
        identifier_5,
        is_malformed_identifier,
        reject_reason,
        md5(raw_json) as record_hash,
        case when reject_reason is not null then raw_json end as raw_record
    from validated
)

select * from final
