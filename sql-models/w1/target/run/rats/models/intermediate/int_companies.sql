
  
  create view "dbt"."main"."int_companies__dbt_tmp" as (
    -- One row per company (by its case-folded key) as the postings describe it now: its name as
-- most often written, size band and industry. The dim_company snapshot keeps its history.
with name_uses as (
    select company_key, company, COUNT(*) AS uses
    from "dbt"."main"."stg_postings"
    where company_key IS NOT NULL AND company IS NOT NULL
    group by company_key, company
),
names as (
    select
        company_key,
        company,
        -- Ties go to the name that sorts last, so the choice never depends on row order.
        ROW_NUMBER() OVER (PARTITION BY company_key ORDER BY uses DESC, company DESC) AS name_rank
    from name_uses
),
top_names as (
    select company_key, company from names where name_rank = 1
),
facts as (
    select
        company_key,
        MAX(company_size_band) AS company_size_band,
        MAX(company_industry) AS company_industry
    from "dbt"."main"."stg_postings"
    where company_key IS NOT NULL
    group by company_key
)
select
    f.company_key,
    COALESCE(n.company, f.company_key) AS company_name,
    f.company_size_band,
    f.company_industry
from facts AS f
left join top_names AS n on f.company_key = n.company_key
  );
