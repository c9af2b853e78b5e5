
  
    
    

    create  table
      "dbt"."main"."dim_skill__dbt_tmp"
  
    as (
      -- One row per taxonomy skill, with how many distinct postings mention it.
with mentions as (
    select
        skill_id,
        COUNT(*) AS postings
    from "dbt"."main"."stg_posting_skills"
    group by skill_id
)

select
    s.skill_id,
    s.skill_name,
    s.category,
    s.category_description,
    s.parent_ids,
    s.is_technical,
    COALESCE(m.postings, 0) AS postings
from "dbt"."main"."stg_skills" AS s
left join mentions AS m on s.skill_id = m.skill_id
    );
  
  