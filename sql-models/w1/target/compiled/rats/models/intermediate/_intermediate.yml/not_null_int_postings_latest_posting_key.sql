
    
    



select posting_key
from "dbt"."main"."int_postings_latest"
where posting_key is null


