-- One row per company (by its case-folded key), with its name as most often written.
with name_uses as (
    select company_key, company, COUNT(*) AS uses
    from {{ ref('stg_postings') }}
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
        MAX(company_industry) AS company_industry,
        COUNT(*) AS postings,
        MIN(date_posted) AS first_posted,
        MAX(date_posted) AS last_posted
    from {{ ref('stg_postings') }}
    where company_key IS NOT NULL
    group by company_key
)
select
    f.company_key,
    n.company AS company_name,
    f.company_size_band,
    f.company_industry,
    f.postings,
    f.first_posted,
    f.last_posted
from facts AS f
left join top_names AS n on f.company_key = n.company_key
