-- Postings per company and month: who is hiring, and when.
select
    company_key,
    {{ month_start('date_posted') }} AS month_start,
    COUNT(*) AS postings,
    COUNT(DISTINCT title) AS distinct_titles
from {{ ref('stg_postings') }}
where company_key IS NOT NULL AND date_posted IS NOT NULL
group by company_key, {{ month_start('date_posted') }}
