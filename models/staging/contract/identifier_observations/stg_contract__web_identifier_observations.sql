-- The identifiers web events (stg_web__events) carry: the cookie, and the user id
-- when signed in.
-- One source's part of stg_contract__identifier_observations (the union, whose YAML
-- documents the columns); in the build only when the source is.
{{ config(enabled=lw_source_enabled('web')) }}
with

web_events as (
    select * from {{ ref('stg_web__events') }}
),

final as (
    select
        'web' as source,
        {{ lw_typed_identifier('cookie', 'cookie_id') }} as identifier,
        event_at as seen_at
    from web_events
    union all
    select
        'web' as source,
        {{ lw_typed_identifier('user', 'user_id') }} as identifier,
        event_at as seen_at
    from web_events
    where user_id is not null
)

select * from final
