
    
    



select location_key
from "dbt"."main"."int_locations"
where location_key is null


