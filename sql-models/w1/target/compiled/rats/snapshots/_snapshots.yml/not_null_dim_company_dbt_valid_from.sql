
    
    



select dbt_valid_from
from "dbt"."main"."dim_company"
where dbt_valid_from is null


