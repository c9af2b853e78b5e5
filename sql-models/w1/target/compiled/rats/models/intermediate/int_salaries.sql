
-- Postings that state pay, with the yearly USD range and its midpoint.
select
    posting_key,
    salary_interval,
    salary_currency,
    salary_source,
    salary_min_usd,
    salary_max_usd,
    CASE
        WHEN salary_min_usd IS NOT NULL AND salary_max_usd IS NOT NULL THEN (salary_min_usd + salary_max_usd) / 2
        ELSE COALESCE(salary_min_usd, salary_max_usd)
    END AS salary_mid_usd
from "dbt"."main"."stg_postings"
where salary_min_usd IS NOT NULL OR salary_max_usd IS NOT NULL