
    
    



select posting_key
from "dbt"."main"."fct_posting_skills"
where posting_key is null


