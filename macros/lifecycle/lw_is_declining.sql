{#- SPEC §3's decline rule, in one place: at least decline_min_prior_active_days
    active days in the previous 30 days, and the last 30 days' active days below
    (1 - decline_drop_share) of them. Takes the two counts as SQL expressions (null
    counts as 0); used by lw_activity_metrics (is_declining on each snapshot date) and
    int_person_decline_episodes (each day of a current decline). -#}
{% macro lw_is_declining(active_days_30d_expr, active_days_prev_30d_expr) -%}
    coalesce(
        coalesce({{ active_days_prev_30d_expr }}, 0) >= {{ var('decline_min_prior_active_days') }}
        and coalesce({{ active_days_30d_expr }}, 0)
        < {{ active_days_prev_30d_expr }} * {{ 1 - var('decline_drop_share') }},
        false
    )
{%- endmacro %}
