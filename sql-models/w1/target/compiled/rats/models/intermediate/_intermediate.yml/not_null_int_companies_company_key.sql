
    
    



select company_key
from "dbt"."main"."int_companies"
where company_key is null


