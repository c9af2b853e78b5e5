
    
    



select posting_key
from "dbt"."main"."stg_postings"
where posting_key is null


