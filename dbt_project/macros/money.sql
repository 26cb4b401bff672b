{#- Money: every amount the marts show goes through here (2 decimals, exact decimal type). -#}
{% macro money(expression) -%}
    cast(round({{ expression }}, 2) as decimal(12, 2))
{%- endmacro %}
