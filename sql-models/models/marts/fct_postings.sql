-- One row per distinct posting: what it is, where, for whom, and the pay it states.
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
    {{ month_start('p.date_posted') }} AS posting_month_start,
    s.salary_interval,
    s.salary_source,
    s.salary_min_usd,
    s.salary_max_usd,
    s.salary_mid_usd
from {{ ref('stg_postings') }} AS p
left join {{ ref('int_locations') }} AS l on p.posting_key = l.posting_key
left join {{ ref('int_salaries') }} AS s on p.posting_key = s.posting_key
