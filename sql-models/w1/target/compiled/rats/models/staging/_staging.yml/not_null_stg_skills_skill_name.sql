
    
    



select skill_name
from "dbt"."main"."stg_skills"
where skill_name is null


