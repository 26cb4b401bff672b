{#- Rows where `expression` is not true fail (null counts as a failure unless allow_null). -#}
{% test expression_is_true(model, expression, column_name=none, allow_null=false) %}
select *
from {{ model }}
where not ({{ expression }}){% if not allow_null %} or ({{ expression }}) is null{% endif %}
{% endtest %}
