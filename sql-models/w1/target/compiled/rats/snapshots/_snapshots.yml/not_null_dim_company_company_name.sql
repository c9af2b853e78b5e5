
    
    



select company_name
from "dbt"."main"."dim_company"
where company_name is null


