
    
    



select posting_skill_key
from "dbt"."main"."fct_posting_skills"
where posting_skill_key is null


