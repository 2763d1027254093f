{#- amount / count rounded half away from zero to the cent, exactly, as decimal(18, 2)
    (an average order value). Not round(amount / count, 2): DuckDB divides decimals in
    double precision, so a quotient that ends in exactly half a cent (65.585) may
    arrive as 65.58499… and round down, while Spark divides in decimal and rounds up.
    Here the amount is taken in integer cents c and the rounded magnitude is
    floor((2|c| + n) / 2n), a quotient of integers far below 2^53, whose floor is exact
    in double precision; the sign is put back and the cents turned into a decimal by a
    (exact) decimal multiplication. Null when count is 0 or null. -#}
{% macro lw_money_quotient(amount, count) -%}
    case
        when {{ count }} > 0 then cast(
            cast(
                sign({{ amount }})
                * floor(
                    cast(2 * abs(cast(round({{ amount }} * 100) as {{ dbt.type_bigint() }})) + {{ count }} as double)
                    / cast(2 * {{ count }} as double)
                )
                as decimal(18, 0)
            ) * 0.01
            as decimal(18, 2)
        )
    end
{%- endmacro %}
