{#-
    The column equals `expression` on every row, within `tolerance` (both null also passes):
    a metric computed one way in the model is checked against its definition written here.
-#}
{% test equals_expression(model, column_name, expression, tolerance=0.000001) %}
select *
from {{ model }}
where not (
    ({{ column_name }} is null and ({{ expression }}) is null)
    or abs({{ column_name }} - ({{ expression }})) <= {{ tolerance }}
)
{% endtest %}
