
    
    



select duplicate_key
from "dbt"."main"."stg_duplicates"
where duplicate_key is null


