-- Skill demand per ISO week: postings that mention the skill, out of all postings dated that
-- week, and the share in percent.
with weekly as (
    select
        STRFTIME(date_posted, '%G-W%V') AS iso_week,
        COUNT(*) AS postings_in_week
    from "dbt"."main"."fct_postings"
    where date_posted IS NOT NULL
    group by STRFTIME(date_posted, '%G-W%V')
),

demand as (
    select
        STRFTIME(date_posted, '%G-W%V') AS iso_week,
        skill_id,
        COUNT(*) AS postings_with_skill
    from "dbt"."main"."fct_posting_skills"
    where date_posted IS NOT NULL
    group by STRFTIME(date_posted, '%G-W%V'), skill_id
)

select
    d.iso_week,
    d.skill_id,
    k.skill_name,
    k.category,
    d.postings_with_skill,
    w.postings_in_week,
    ROUND(100.0 * d.postings_with_skill / w.postings_in_week, 2) AS share_pct
from demand AS d
inner join weekly AS w on d.iso_week = w.iso_week
inner join "dbt"."main"."dim_skill" AS k on d.skill_id = k.skill_id