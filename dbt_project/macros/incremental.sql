{#-
    Helpers of the incremental models.

    incremental_cutoff(column, lookback_hours): the newest `column` this model's table holds,
    minus `lookback_hours`, as a timestamptz literal (1970-01-01 when the table is empty). It
    is read before the model's SQL runs, so the filter it goes into is a constant: DuckDB
    pushes a constant into the Parquet scan and skips every row group whose statistics lie
    before it, where a `(select max(...) from this)` subquery made it read every file
    (benchmarks/RESULTS.md, "The incremental hour, redone": stg_events' new rows at 10M,
    1.7 s -> 0.7-0.9 s in dbt, most of the rest its anti-join against the ids held).

    loaded_at(): when this dbt invocation started, the same instant for every model of the
    run. A model that stamps its rows with it (`dbt_loaded_at`) lets the models downstream
    find the rows loaded since their own last build:
    `where dbt_loaded_at > {{ held_loaded_at() }}`.

    held_loaded_at(): the newest `dbt_loaded_at` this model's table holds, as SQL; the epoch
    when the table is empty (everything is then new) or has no such column: a table from
    before the column existed, where reading it would fail on the missing column. The model
    then builds, and `on_schema_change='fail'` stops it with dbt's message asking for a
    full refresh.

    epoch(): 1970-01-01 UTC, the "since" of everything.
-#}
{% macro incremental_cutoff(column, lookback_hours) -%}
    {%- if execute -%}
        {%- set newest -%}
            select cast(
                coalesce(max({{ column }}), {{ epoch() }}) - interval '{{ lookback_hours }} hours'
                as varchar
            )
            from {{ this }}
        {%- endset -%}
        timestamptz '{{ run_query(newest).columns[0].values()[0] }}'
    {%- else -%}
        {{ epoch() }}
    {%- endif -%}
{%- endmacro %}

{% macro loaded_at() -%}
    cast('{{ run_started_at }}' as timestamptz)
{%- endmacro %}

{% macro held_loaded_at() -%}
    {%- set columns = adapter.get_columns_in_relation(this) if execute else [] -%}
    {%- if columns | selectattr('name', 'equalto', 'dbt_loaded_at') | list -%}
        (select coalesce(max(dbt_loaded_at), {{ epoch() }}) from {{ this }})
    {%- else -%}
        {{ epoch() }}
    {%- endif -%}
{%- endmacro %}

{% macro epoch() -%}
    timestamptz '1970-01-01 00:00:00+00'
{%- endmacro %}
