
    
    



select posting_key
from "dbt"."main"."int_posting_sightings"
where posting_key is null


