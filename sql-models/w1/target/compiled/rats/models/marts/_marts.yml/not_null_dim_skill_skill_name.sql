
    
    



select skill_name
from "dbt"."main"."dim_skill"
where skill_name is null


