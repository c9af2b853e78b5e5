
    
    



select location_key
from "dbt"."main"."dim_location"
where location_key is null


