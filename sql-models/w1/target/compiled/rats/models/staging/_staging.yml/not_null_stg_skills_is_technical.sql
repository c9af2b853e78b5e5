
    
    



select is_technical
from "dbt"."main"."stg_skills"
where is_technical is null


