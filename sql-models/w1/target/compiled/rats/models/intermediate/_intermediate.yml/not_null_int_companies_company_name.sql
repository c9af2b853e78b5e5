
    
    



select company_name
from "dbt"."main"."int_companies"
where company_name is null


