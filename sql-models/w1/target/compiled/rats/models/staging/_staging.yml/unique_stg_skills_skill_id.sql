
    
    

select
    skill_id as unique_field,
    count(*) as n_records

from "dbt"."main"."stg_skills"
where skill_id is not null
group by skill_id
having count(*) > 1


