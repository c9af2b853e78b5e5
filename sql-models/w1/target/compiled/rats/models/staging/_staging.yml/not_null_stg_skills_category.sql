
    
    



select category
from "dbt"."main"."stg_skills"
where category is null


