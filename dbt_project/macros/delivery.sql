{#-
    How late a row arrived, from when ParkFlow received it and its event time (vars in
    dbt_project.yml): more than `late_delivery_minutes` and at most `backfill_after_hours`
    after it is late; more than `backfill_after_hours` after it is a backfill (history loaded
    by `parkflow import`, a replay, a feed catching up), which is not lateness.
-#}
{% macro is_backfilled(received_at, event_time) -%}
    ({{ received_at }} > {{ event_time }} + interval '{{ var("backfill_after_hours") }} hours')
{%- endmacro %}

{% macro is_late(received_at, event_time) -%}
    ({{ received_at }} > {{ event_time }} + interval '{{ var("late_delivery_minutes") }} minutes'
        and not {{ is_backfilled(received_at, event_time) }})
{%- endmacro %}
