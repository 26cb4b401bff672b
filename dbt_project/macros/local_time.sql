{#- A UTC instant (timestamptz) as the wall-clock time of a time zone (a timestamp without zone). -#}
{% macro local_time(instant, timezone) -%}
    timezone({{ timezone }}, {{ instant }})
{%- endmacro %}
