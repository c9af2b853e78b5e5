
    
    



select skill_id
from "dbt"."main"."dim_skill"
where skill_id is null


