{% snapshot dim_company %}
{{ config(target_schema='main', unique_key='company_key', strategy='check', check_cols=['company_name', 'company_size_band', 'company_industry']) }}
-- Companies as a slowly changing dimension (type 2): a change of name, size band or industry
-- closes the current version (dbt_valid_to) and opens a new one.
select company_key, company_name, company_size_band, company_industry
from {{ ref('int_companies') }}
{% endsnapshot %}
