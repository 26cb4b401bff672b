{#-
    What a stay costs (ARCHITECTURE "Metric definitions", the same rule as parkflow.tariff.Tariff):
    free under grace_minutes; otherwise min(max_fee, base_fee + hourly_rate x started hours),
    where started hours = ceil(duration / 1 h) and at least 1. Null when the duration is unknown.
-#}
{% macro amount_due(duration_s, base_fee, hourly_rate, max_fee, grace_minutes) -%}
    case
        when {{ duration_s }} is null then null
        when {{ duration_s }} < {{ grace_minutes }} * 60 then {{ money('0') }}
        else {{ money(
            'least(' ~ max_fee ~ ', ' ~ base_fee ~ ' + ' ~ hourly_rate
            ~ ' * greatest(1, (' ~ duration_s ~ ' + 3599) // 3600))'
        ) }}
    end
{%- endmacro %}
