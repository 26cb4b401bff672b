{#-
    `column_name` is unique, checked for the rows the newest run loaded (the newest value of
    `loaded_at_column`, stamped with the `loaded_at()` macro): none of them shares its value
    with another row, old or new. The older rows were checked when they were loaded, so the
    column stays unique as a whole while an incremental run's check probes the table with its
    own few rows instead of grouping all of it (stg_events at 10M events: 1.45 s -> 0.35 s).
    When every row is from the newest load (a full build), it is the plain `unique` check.
-#}
{% test unique_in_newest_load(model, column_name, loaded_at_column='dbt_loaded_at') %}
{%- set newest = "(select max(" ~ loaded_at_column ~ ") from " ~ model ~ ")" -%}
{%- set older_rows = 0 -%}
{#- (compiled before the model exists too: `dbt compile` on a new warehouse) -#}
{%- if execute and load_relation(model) is not none -%}
    {%- set older_rows = run_query(
        "select count(*) from " ~ model ~ " where " ~ loaded_at_column ~ " < " ~ newest
    ).columns[0].values()[0] -%}
{%- endif %}
select {{ column_name }} as unique_field, count(*) as n_records
from {{ model }}
{%- if older_rows > 0 %}
where {{ column_name }} in (
    select {{ column_name }} from {{ model }} where {{ loaded_at_column }} = {{ newest }}
)
{%- endif %}
group by {{ column_name }}
having count(*) > 1
{% endtest %}
