-- One row per posting and skill it mentions, with the posting's time, place, company and level.
select
    CONCAT(ps.posting_key, '|', ps.skill_id) AS posting_skill_key,
    ps.posting_key,
    ps.skill_id,
    k.category,
    k.is_technical,
    p.date_posted,
    p.posting_month_start,
    p.company_key,
    p.location_key,
    p.seniority,
    p.salary_mid_usd
from "dbt"."main"."stg_posting_skills" AS ps
inner join "dbt"."main"."fct_postings" AS p on ps.posting_key = p.posting_key
inner join "dbt"."main"."dim_skill" AS k on ps.skill_id = k.skill_id