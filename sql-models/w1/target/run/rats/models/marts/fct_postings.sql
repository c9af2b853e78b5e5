
  
    
    

    create  table
      "dbt"."main"."fct_postings__dbt_tmp"
  
    as (
      with __dbt__cte__int_salaries as (

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
) -- One row per distinct posting: what it is, where, for whom, and the pay it states.
select
    p.posting_key,
    p.source_site,
    p.title,
    p.seniority,
    p.min_years_experience,
    p.job_type,
    p.education_level,
    p.company_key,
    l.location_key,
    p.remote_type,
    p.date_posted,
    CAST(date_trunc('month', p.date_posted) AS DATE) AS posting_month_start,
    s.salary_interval,
    s.salary_source,
    s.salary_min_usd,
    s.salary_max_usd,
    s.salary_mid_usd
from "dbt"."main"."stg_postings" AS p
left join "dbt"."main"."int_locations" AS l on p.posting_key = l.posting_key
left join __dbt__cte__int_salaries AS s on p.posting_key = s.posting_key
    );
  
  