
    
    



select skill_id
from "dbt"."main"."stg_skills"
where skill_id is null


