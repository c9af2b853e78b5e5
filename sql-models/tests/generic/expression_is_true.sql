{#- For dbt: rats runs expression_is_true natively; dbt needs it defined (as dbt_utils does). -#}
{% test expression_is_true(model, expression, column_name=None) %}
select * from {{ model }}
where not ({% if column_name %}{{ column_name }} {% endif %}{{ expression }})
{% endtest %}
