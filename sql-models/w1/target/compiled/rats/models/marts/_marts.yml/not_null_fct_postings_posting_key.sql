
    
    



select posting_key
from "dbt"."main"."fct_postings"
where posting_key is null


