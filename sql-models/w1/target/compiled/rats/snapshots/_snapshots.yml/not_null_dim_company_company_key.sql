
    
    



select company_key
from "dbt"."main"."dim_company"
where company_key is null


