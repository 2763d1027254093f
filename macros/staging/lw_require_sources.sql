{#- Fails the compilation, saying how to fix it, when the build has no source at all
    (var demo_sources empty and no declared source). -#}
{% macro lw_require_sources() -%}
    {%- if not var('demo_sources') and not var('transaction_sources') and not var('event_sources') and not var('profile_sources') -%}
        {{ exceptions.raise_compiler_error(
            "This build has no sources: var demo_sources is empty and no source is declared."
            ~ " Fix: lw build --sources sources/<file>.yml (docs/sources.md), or list demo sources in var demo_sources."
        ) }}
    {%- endif -%}
{%- endmacro %}
