
  
    
    

    create  table
      "dbt"."main"."agg_salary_by_title_location__dbt_tmp"
  
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
) -- Pay by title and place, for groups with at least var('min_group_postings') postings.
select
    p.title,
    p.location_country,
    p.location_state,
    COUNT(*) AS postings,
    MIN(s.salary_mid_usd) AS salary_mid_usd_min,
    AVG(s.salary_mid_usd) AS salary_mid_usd_avg,
    MEDIAN(s.salary_mid_usd) AS salary_mid_usd_median,
    MAX(s.salary_mid_usd) AS salary_mid_usd_max
from "dbt"."main"."stg_postings" AS p
inner join __dbt__cte__int_salaries AS s on p.posting_key = s.posting_key
where s.salary_mid_usd IS NOT NULL
group by p.title, p.location_country, p.location_state
having COUNT(*) >= 3
    );
  
  