
    
    



select posting_key
from "dbt"."main"."stg_duplicates"
where posting_key is null


