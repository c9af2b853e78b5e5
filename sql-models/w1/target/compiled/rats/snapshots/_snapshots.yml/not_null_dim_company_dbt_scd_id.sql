
    
    



select dbt_scd_id
from "dbt"."main"."dim_company"
where dbt_scd_id is null


