{#-
    A lake table (source `lake`) as a relation that exists even before the table has a file:
    an empty row set typed from the columns declared in models/staging/__sources.yml,
    unioned by name with the Parquet files (read with allow_empty, which yields a dummy
    column when no file matches). Staging models select their columns from it by name.
-#}
{% macro lake_source(table_name) -%}
    {%- set relation = source('lake', table_name) -%}
    {%- set declared = namespace(columns=[]) -%}
    {%- if execute -%}
        {%- for node in graph.sources.values() -%}
            {%- if node.source_name == 'lake' and node.name == table_name -%}
                {%- set declared.columns = node.columns.values() | list -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if declared.columns | length == 0 -%}
            {{ exceptions.raise_compiler_error("lake table " ~ table_name ~ " declares no columns") }}
        {%- endif -%}
    {%- endif -%}
    (
        select
            {%- for column in declared.columns %}
            cast(null as {{ column.data_type }}) as "{{ column.name }}",
            {%- endfor %}
            cast(null as date) as "date"
        where false
        union all by name
        select * from {{ relation }}
    )
{%- endmacro %}
