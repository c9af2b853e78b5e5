{#- SQL that differs between engines, one macro each, with a body per engine (`target.type`
    is `polars` under rats, the adapter's name under dbt), the way dbt's adapter.dispatch
    picks an implementation. -#}

{% macro month_start(column) -%}
{%- if target.type == 'polars' -%}
DATE(STRFTIME({{ column }}, '%Y-%m-01'))
{%- else -%}
CAST(date_trunc('month', {{ column }}) AS DATE)
{%- endif -%}
{%- endmacro %}

{% macro location_key(city, state, country) -%}
CONCAT(COALESCE({{ country }}, ''), '|', COALESCE({{ state }}, ''), '|', COALESCE({{ city }}, ''))
{%- endmacro %}

{% macro iso_week(column) -%}
{#- `2020-W18`: ISO year and week, the same text under both engines. -#}
STRFTIME({{ column }}, '%G-W%V')
{%- endmacro %}
