{#-
    Per group (`partition_by`, a list of columns), the hours in `column_name` run from the first
    to the last with no hour missing and none twice.
-#}
{% test hourly_series_without_gaps(model, column_name, partition_by) %}
with hours as (

    select
        {{ partition_by | join(', ') }},
        {{ column_name }} as hour_start,
        lead({{ column_name }}) over (
            partition by {{ partition_by | join(', ') }} order by {{ column_name }}
        ) as next_hour_start
    from {{ model }}

)

select *
from hours
where next_hour_start is not null
  and next_hour_start - hour_start <> interval 1 hour
{% endtest %}
