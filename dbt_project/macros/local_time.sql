{#- A UTC instant (timestamptz) as the wall-clock time of a time zone (a timestamp without zone). -#}
{% macro local_time(instant, timezone) -%}
    timezone({{ timezone }}, {{ instant }})
{%- endmacro %}

{#-
    The UTC instant at which the local hour holding `instant` began in `timezone`: the instant
    less its local minutes and seconds. In a zone a whole number of hours from UTC that is the
    UTC hour; in Asia/Kolkata (+05:30) or Australia/Adelaide (+09:30/+10:30) it is half past.
-#}
{% macro local_hour_start(instant, timezone) -%}
    ({{ instant }} - ({{ local_time(instant, timezone) }}
        - date_trunc('hour', {{ local_time(instant, timezone) }})))
{%- endmacro %}
