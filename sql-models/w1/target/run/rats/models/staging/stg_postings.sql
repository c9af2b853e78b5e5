
  
  create view "dbt"."main"."stg_postings__dbt_tmp" as (
    -- Silver postings with the columns the warehouse uses, named for it.
select
    posting_key,
    source_site,
    source_job_id,
    job_url,
    title,
    company,
    company_key,
    location_city,
    location_state,
    location_country,
    remote_type,
    seniority,
    min_years_experience,
    job_type,
    education_level,
    company_size_band,
    company_industry,
    salary_interval,
    salary_currency,
    salary_min_annual,
    salary_max_annual,
    salary_min_usd,
    salary_max_usd,
    salary_source,
    date_posted,
    scraped_at,
    posting_month,
    source_file
from read_parquet('/tmp/parity/lake/silver/postings/posting_month=*/*.parquet', hive_partitioning = true)
  );
