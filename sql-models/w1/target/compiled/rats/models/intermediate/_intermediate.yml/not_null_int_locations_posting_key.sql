
    
    



select posting_key
from "dbt"."main"."int_locations"
where posting_key is null


