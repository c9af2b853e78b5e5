
    
    



select skill_id
from "dbt"."main"."fct_posting_skills"
where skill_id is null


