-- Pay by title and place, for groups with at least var('min_group_postings') postings.
select
    p.title,
    p.location_country,
    p.location_state,
    COUNT(*) AS postings,
    MIN(s.salary_mid_usd) AS salary_mid_usd_min,
    AVG(s.salary_mid_usd) AS salary_mid_usd_avg,
    MEDIAN(s.salary_mid_usd) AS salary_mid_usd_median,
    MAX(s.salary_mid_usd) AS salary_mid_usd_max
from {{ ref('stg_postings') }} AS p
inner join {{ ref('int_salaries') }} AS s on p.posting_key = s.posting_key
where s.salary_mid_usd IS NOT NULL
group by p.title, p.location_country, p.location_state
having COUNT(*) >= {{ var('min_group_postings') }}
