
    
    



select location_key
from "dbt"."main"."fct_postings"
where location_key is null


