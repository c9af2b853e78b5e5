
    
    



select posting_key
from "dbt"."main"."stg_posting_skills"
where posting_key is null


