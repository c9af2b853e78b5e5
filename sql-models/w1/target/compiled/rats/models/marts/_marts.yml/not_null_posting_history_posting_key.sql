
    
    



select posting_key
from "dbt"."main"."posting_history"
where posting_key is null


