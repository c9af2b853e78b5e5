
  
    
    

    create  table
      "dbt"."main"."agg_company_hiring__dbt_tmp"
  
    as (
      -- Postings per company and month: who is hiring, and when.
select
    company_key,
    CAST(date_trunc('month', date_posted) AS DATE) AS month_start,
    COUNT(*) AS postings,
    COUNT(DISTINCT title) AS distinct_titles
from "dbt"."main"."stg_postings"
where company_key IS NOT NULL AND date_posted IS NOT NULL
group by company_key, CAST(date_trunc('month', date_posted) AS DATE)
    );
  
  