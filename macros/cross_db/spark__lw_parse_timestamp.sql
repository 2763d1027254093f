{#- lw_parse_timestamp (macros/staging/declared/lw_parse_timestamp.sql) on Spark: the
    same UTC timestamps as DuckDB's, null (never an error, ANSI mode or not) when the
    value does not parse. Picked up by adapter.dispatch (spark__ before default__).
    - a strptime pattern: translated by lw_strptime_to_spark_pattern, parsed with
      try_to_timestamp, read in time_zone (lw_local_to_utc);
    - iso8601: with an offset or Z converted from it, without read in time_zone;
    - epoch_s / epoch_ms / epoch_us: UTC by definition. -#}
{% macro spark__lw_parse_timestamp(expr, format, time_zone) -%}
    {%- if format == 'iso8601' -%}
        case
            when {{ lw_regexp_like(expr, '[T ][0-9:.]+ ?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$') }}
                then try_to_timestamp({{ expr }})
            else {{ lw_local_to_utc('try_cast(' ~ expr ~ ' as timestamp)', "'" ~ time_zone ~ "'") }}
        end
    {%- elif format in ('epoch_s', 'epoch_ms', 'epoch_us') -%}
        {%- set micros_per_unit = {'epoch_s': 1000000, 'epoch_ms': 1000, 'epoch_us': 1}[format] -%}
        timestamp_micros(try_cast({{ expr }} as bigint) * {{ micros_per_unit }})
    {%- else -%}
        {{ lw_local_to_utc('try_to_timestamp(' ~ expr ~ ", '" ~ lw_strptime_to_spark_pattern(format) ~ "')", "'" ~ time_zone ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#- A strptime pattern ('%Y%m%d', '%d/%m/%Y %H:%M') → the Spark datetime pattern that
    reads the same values ('yyyyMMdd', 'd/M/yyyy H:m'). A numeric field next to
    another field (no separator between) keeps its fixed width (MM, dd, HH …: Spark
    cannot split adjacent variable-width fields); one between separators or the ends
    takes one or two digits as DuckDB's %m / %d / %H do (M, d, H …). Literal text with letters or pattern symbols is quoted; %% is a percent sign.
    The result goes inside a Spark SQL string literal (its quotes written \'). Directives
    without a Spark equivalent raise a compilation error. -#}
{% macro lw_strptime_to_spark_pattern(format) -%}
    {%- set fixed = {'Y': 'yyyy', 'y': 'yy', 'm': 'MM', 'd': 'dd', 'H': 'HH', 'I': 'hh',
                     'M': 'mm', 'S': 'ss', 'f': 'SSSSSS', 'j': 'DDD'} -%}
    {%- set flexible = {'m': 'M', 'd': 'd', 'H': 'H', 'I': 'h', 'M': 'm', 'S': 's'} -%}
    {%- set words = {'b': 'MMM', 'B': 'MMMM', 'a': 'EEE', 'A': 'EEEE', 'p': 'a', 'z': 'XX', 'Z': 'z'} -%}
    {%- set parts = [] -%}
    {%- set literal = [] -%}
    {%- set state = {'i': 0, 'after_field': false} -%}
    {%- for _ in range(format | length) -%}
        {%- set i = state.i -%}
        {%- if i < format | length -%}
            {%- set char = format[i] -%}
            {%- if char == '%' and i + 1 < format | length and format[i + 1] != '%' -%}
                {%- if literal -%}
                    {%- do parts.append(lw_spark_pattern_literal(literal | join(''))) -%}
                    {%- do literal.clear() -%}
                {%- endif -%}
                {%- set directive = format[i + 1] -%}
                {%- set next_is_field = i + 2 < format | length and format[i + 2] == '%' -%}
                {%- if directive in flexible and not next_is_field and not state.after_field -%}
                    {%- do parts.append(flexible[directive]) -%}
                {%- elif directive in fixed -%}
                    {%- do parts.append(fixed[directive]) -%}
                {%- elif directive in words -%}
                    {%- do parts.append(words[directive]) -%}
                {%- else -%}
                    {{ exceptions.raise_compiler_error("timestamp format '" ~ format ~ "': %" ~ directive ~ " has no Spark equivalent") }}
                {%- endif -%}
                {%- do state.update({'i': i + 2, 'after_field': true}) -%}
            {%- elif char == '%' -%}
                {%- do literal.append('%') -%}
                {%- do state.update({'i': i + 2, 'after_field': false}) -%}
            {%- else -%}
                {%- do literal.append(char) -%}
                {%- do state.update({'i': i + 1, 'after_field': false}) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if literal -%}
        {%- do parts.append(lw_spark_pattern_literal(literal | join(''))) -%}
    {%- endif -%}
    {{ return(parts | join('')) }}
{%- endmacro %}

{#- Literal text of a Spark datetime pattern, for a Spark SQL string literal: as is when
    it holds no letters or pattern symbols, else quoted (\'T\'; a quote is \'\'). -#}
{% macro lw_spark_pattern_literal(text) -%}
    {%- set special = [] -%}
    {%- for char in text -%}
        {%- if char.isalpha() or char in "[]{}#'" -%}{%- do special.append(char) -%}{%- endif -%}
    {%- endfor -%}
    {%- if not special -%}
        {{ return(text) }}
    {%- endif -%}
    {{ return("\\'" ~ (text | replace("'", "\\'\\'")) ~ "\\'") }}
{%- endmacro %}
